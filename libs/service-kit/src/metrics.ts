import type { HandledEvent, HandlerObserver } from '@vivified/nats-transport';
import type { PolicySidecarMetrics } from '@vivified/policy-sidecar';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type { HandledEvent, HandlerObserver };

/** Outcomes counted by `vivified_audit_emitted_total`. */
export type AuditEmitOutcome = 'published' | 'buffered' | 'refused' | 'invalid';

/** Options of {@link ServiceMetrics}. */
export interface ServiceMetricsOptions {
  /** Value of the `service` label on every metric. */
  service: string;
  /** Collect Node.js process metrics (`vivified_process_*`, `vivified_nodejs_*`). @default true */
  processMetrics?: boolean;
}

/** Buckets of handler latency, 0.5 ms to 5 s. */
export const handlerDurationBuckets: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Buckets of a local policy decision, 1 µs to 10 ms (a cache hit is well under the first). */
export const policyDecisionBuckets: readonly number[] = [
  0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01,
];

/** The metric name prefix: every metric of the platform starts with it. */
export const METRIC_PREFIX = 'vivified_';

/**
 * The process's Prometheus registry and the platform's metrics. One per process; the ops server serves
 * {@link ServiceMetrics.registry} on `/metrics`, and the NATS transport reports handled messages to it.
 */
export class ServiceMetrics implements HandlerObserver, PolicySidecarMetrics {
  /** The registry `/metrics` serves. */
  readonly registry = new Registry();

  private readonly handlerRequests: Counter<'subject' | 'kind' | 'outcome'>;
  private readonly handlerDuration: Histogram<'subject' | 'kind' | 'outcome'>;
  private readonly ready: Gauge;
  private readonly natsConnected: Gauge;
  private readonly auditEmitted: Counter<'outcome'>;
  private readonly auditDropped: Counter;
  private readonly auditBuffered: Gauge;
  private readonly policyDecisions: Counter<'effect' | 'rule'>;
  private readonly policyDecisionDuration: Histogram;
  private readonly policyBundleVersion: Gauge;
  private readonly policyBundleRejections: Counter<'reason'>;

  constructor(options: ServiceMetricsOptions) {
    this.registry.setDefaultLabels({ service: options.service });
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    }
    const registers = [this.registry];
    const handlerLabels = ['subject', 'kind', 'outcome'] as const;
    this.handlerRequests = new Counter({
      name: 'vivified_handler_requests_total',
      help: 'Messages handled, by subject, handler kind and outcome',
      labelNames: handlerLabels,
      registers,
    });
    this.handlerDuration = new Histogram({
      name: 'vivified_handler_duration_seconds',
      help: 'Time from receipt to reply or ack, by subject, handler kind and outcome',
      labelNames: handlerLabels,
      buckets: [...handlerDurationBuckets],
      registers,
    });
    this.ready = new Gauge({
      name: 'vivified_service_ready',
      help: '1 when every readiness check passes',
      registers,
    });
    this.natsConnected = new Gauge({
      name: 'vivified_nats_connected',
      help: '1 while connected to NATS',
      registers,
    });
    this.auditEmitted = new Counter({
      name: 'vivified_audit_emitted_total',
      help: 'Audit records emitted, by outcome (published, buffered, refused, invalid)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.auditDropped = new Counter({
      name: 'vivified_audit_dropped_total',
      help: 'Buffered audit records dropped because the buffer was full',
      registers,
    });
    this.auditBuffered = new Gauge({
      name: 'vivified_audit_buffered',
      help: 'Audit records waiting in memory to be published',
      registers,
    });
    this.policyDecisions = new Counter({
      name: 'vivified_policy_decisions_total',
      help: 'Policy sidecar decisions, by effect (allow, deny, sanitize) and deciding rule',
      labelNames: ['effect', 'rule'] as const,
      registers,
    });
    this.policyDecisionDuration = new Histogram({
      name: 'vivified_policy_decision_seconds',
      help: 'Time of a local policy decision (after token verification, before audit)',
      buckets: [...policyDecisionBuckets],
      registers,
    });
    this.policyBundleVersion = new Gauge({
      name: 'vivified_policy_bundle_version',
      help: 'Version of the policy bundle in force (0: none received yet, built-in rules only)',
      registers,
    });
    this.policyBundleRejections = new Counter({
      name: 'vivified_policy_bundle_rejected_total',
      help: 'Policy bundles read from KV and refused (bad signature, other key, invalid, older version), by reason',
      labelNames: ['reason'] as const,
      registers,
    });
  }

  /** Counts one handled message (called by the NATS transport after every handler). */
  onHandled(event: HandledEvent): void {
    const labels = { subject: event.subject, kind: event.kind, outcome: event.outcome };
    this.handlerRequests.inc(labels);
    this.handlerDuration.observe(labels, event.durationSeconds);
  }

  /** Sets `vivified_service_ready`. */
  setReady(ready: boolean): void {
    this.ready.set(ready ? 1 : 0);
  }

  /** Sets `vivified_nats_connected`. */
  setNatsConnected(connected: boolean): void {
    this.natsConnected.set(connected ? 1 : 0);
  }

  /** Counts audit records (one by default) by what happened to them. */
  auditEmit(outcome: AuditEmitOutcome, count = 1): void {
    this.auditEmitted.inc({ outcome }, count);
  }

  /** Counts audit records dropped from a full buffer. */
  auditDrop(count = 1): void {
    this.auditDropped.inc(count);
  }

  /** Sets how many audit records wait in memory. */
  setAuditBuffered(count: number): void {
    this.auditBuffered.set(count);
  }

  /** Counts one policy decision and observes its duration. */
  policyDecision(effect: string, rule: string, seconds: number): void {
    this.policyDecisions.inc({ effect, rule });
    this.policyDecisionDuration.observe(seconds);
  }

  /** Sets `vivified_policy_bundle_version`. */
  setPolicyBundleVersion(version: number): void {
    this.policyBundleVersion.set(version);
  }

  /** Counts a refused policy bundle. */
  policyBundleRejected(reason: string): void {
    this.policyBundleRejections.inc({ reason });
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link ServiceMetrics.render}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
