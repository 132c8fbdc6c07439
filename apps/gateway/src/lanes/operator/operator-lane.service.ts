import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { Classification, ManifestOperation, PluginStatusEntry } from '@vivified/contracts';
import {
  dynamicSubjects,
  ErrorCode,
  formatClassification,
  headers as headerNames,
  parseClassification,
  SubjectTokenError,
  VivifiedError,
} from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';
import { decodeJson, encodeJson, fromNatsError, readReply, RequestMux } from '@vivified/nats-transport';
import type { PolicyInput } from '@vivified/policy-engine';
import { piiRedactFields } from '@vivified/policy-engine';
import type { EnrichmentContext } from '@vivified/policy-sidecar';
import { PolicySidecar, redactFields } from '@vivified/policy-sidecar';
import { NATS_CONNECTION, SERVICE_CONFIG } from '@vivified/service-kit';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { RetryPolicy } from 'cockatiel';
import type { MsgHdrs, NatsConnection } from 'nats';
import { headers as natsHeaders } from 'nats';

import type { GatewayConfig } from '../lane-edge';
import { CallTokenSigner } from '../call-token/call-token-signer';
import { LaneAuditQueue, laneError, outcomeOf } from '../lane-audit';
import { laneTrace } from '../lane-headers';
import { LaneMetrics } from '../lane-metrics';
import { PluginDirectory } from '../plugin-directory';
import { EgressResolver } from '../proxy/egress.client';
import { HttpTargets, rpcUrlOf } from './http-targets';
import { CALLER_DEADLINE, TargetBreakers } from './target-breakers';

/** One operator-lane call as it reached the gateway (over NATS or HTTP). */
export interface OperatorCall {
  target: string;
  operation: string;
  /** The caller's headers: `Authorization`, `traceparent`, `Vivified-Classification`, `Vivified-Deadline`. */
  headers: MsgHdrs | undefined;
  /** The request body (JSON). */
  payload: unknown;
  /** The body's bytes as received, forwarded unchanged when nothing is stripped. */
  raw?: Uint8Array;
}

/** The target's answer: its bytes unchanged, or a value the gateway sanitized. */
export type OperatorResult = { raw: Uint8Array } | { value: unknown };

/**
 * The sidecar's answer carries the payload, not the decision: a probe object of every field a sanitize may strip
 * rides along with the request, and the fields missing from it afterwards are the ones to strip from the reply.
 */
const PROBE = 'vivified_redaction_probe';
const RPC_SUBJECT = /^vivified\.v1\.rpc\.([^.]+)\.([^.]+)$/;
const TRANSIENT: ReadonlySet<ErrorCode> = new Set([ErrorCode.Timeout, ErrorCode.Unavailable]);

/** What one attempt sends, whichever the transport. */
interface Forward {
  body: Uint8Array;
  headers: Record<string, string>;
  deadline: number;
  callers: boolean;
}

interface GuardedPayload {
  request?: unknown;
  [PROBE]?: Record<string, unknown>;
}

/**
 * The operator lane (ARCHITECTURE §3, issue 8): authenticates and authorizes each call through the policy sidecar
 * (`rpc.call` with the caller as source, the target's registered traits and `context.operation`), checks that the
 * target is active and declares the operation, and forwards the (possibly sanitized) request to
 * `vivified.v1.plugin.<target>.rpc.<operation>` — or, for a target with `delivery.mode: http`, POSTs it to
 * `<webhookUrl>/rpc/<operation>` ({@link HttpTargets}) — with a call token the gateway signs — never the caller's
 * token — under the target's bulkhead and circuit breaker, the operation's timeout and the caller's deadline.
 * Idempotent operations are retried on timeouts and unavailable targets. Every call is audited and measured.
 */
@Injectable()
export class OperatorLaneService implements OnModuleInit, OnModuleDestroy {
  private readonly retry: RetryPolicy;
  private readonly http: HttpTargets;
  private readonly requests: RequestMux;

  constructor(
    private readonly sidecar: PolicySidecar,
    private readonly directory: PluginDirectory,
    private readonly signer: CallTokenSigner,
    private readonly breakers: TargetBreakers,
    private readonly metrics: LaneMetrics,
    private readonly auditQueue: LaneAuditQueue,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
    resolver: EgressResolver,
  ) {
    // an HTTP target's reply goes back to NATS callers: it must fit a NATS message too
    this.http = new HttpTargets(resolver, config, nc.info?.max_payload);
    this.requests = RequestMux.of(nc);
    this.retry = retry(
      handleWhen((error) => error instanceof VivifiedError && TRANSIENT.has(error.code)),
      {
        maxAttempts: config.laneRetries,
        backoff: new ExponentialBackoff({ initialDelay: 25, maxDelay: 250 }),
      },
    );
  }

  onModuleInit(): void {
    this.sidecar.enrich('rpc.call', (input, context) => this.enrich(input, context));
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }

  /** Handles one call end to end; throws the typed error the caller gets. */
  async call(call: OperatorCall): Promise<OperatorResult> {
    const started = performance.now();
    const trace = laneTrace(call.headers);
    let principal: Principal | undefined;
    let failure: VivifiedError | undefined;
    let classification: Classification[] = [];
    let attempts = 0;
    let sanitized = false;
    try {
      const subject = this.subjectOf(call);
      const entry = this.directory.active(call.target);
      const operation = entry?.operations?.find((op) => op.name === call.operation);
      const declared = this.declaredClassification(call.headers);
      classification = [...new Set<Classification>([...(operation?.classification ?? []), ...declared])];
      const guarded = await this.sidecar.authorize({
        subject,
        headers: call.headers,
        access: {
          action: 'rpc.call',
          kinds: ['plugin', 'service'],
          classification: operation?.classification ?? [],
        },
        classification: declared,
        payload: { request: call.payload, [PROBE]: Object.fromEntries(piiRedactFields.map((f) => [f, 1])) },
      });
      principal = guarded.principal;
      const payload = guarded.payload as GuardedPayload;
      const stripped = piiRedactFields.filter((field) => !(field in (payload[PROBE] ?? {})));
      sanitized = stripped.length > 0;
      const target = this.checkTarget(call, entry, operation);
      const { deadline, callers } = this.deadlineOf(
        call.headers,
        target.timeoutMs ?? this.config.laneTimeoutMs,
      );
      const outgoing: Record<string, string> = {
        [headerNames.authorization]: `Bearer ${this.signer.sign({
          caller: `${principal.kind}:${principal.id}`,
          target: call.target,
          operation: call.operation,
          traceId: trace.traceId,
          traits: principal.traits,
          deadline,
        })}`,
        [headerNames.traceparent]: trace.traceparent,
        [headerNames.deadline]: String(deadline),
        ...(classification.length > 0
          ? { [headerNames.classification]: formatClassification(classification) }
          : {}),
      };
      const body = !sanitized && call.raw ? call.raw : encodeJson(payload.request ?? {});
      const send = this.sender(call, entry, { body, headers: outgoing, deadline, callers });
      const once = () => {
        attempts += 1;
        if (deadline - Date.now() <= 0) {
          throw new VivifiedError(ErrorCode.Timeout, `no reply from ${call.target} before the deadline`);
        }

        return this.breakers.execute(call.target, send);
      };
      const data = target.idempotent === true ? await this.retry.execute(once) : await once();

      return sanitized ? { value: redactFields(decodeJson(data), stripped) } : { raw: data };
    } catch (error) {
      failure = laneError(error);
      throw failure;
    } finally {
      this.finish(call, principal, classification, trace.traceId, started, attempts, sanitized, failure);
    }
  }

  /** One attempt's sender: NATS to the plugin's rpc subject, or an HTTPS POST for `delivery.mode: http`. */
  private sender(
    call: OperatorCall,
    entry: PluginStatusEntry | undefined,
    request: Forward,
  ): () => Promise<Uint8Array> {
    if (entry?.delivery?.mode === 'http') {
      const url = rpcUrlOf(entry.delivery.webhookUrl, call.operation);

      return () => this.http.send({ url, ...request });
    }
    const subject = dynamicSubjects.pluginRpc(call.target, call.operation);
    const hdrs = natsHeaders();
    for (const [name, value] of Object.entries(request.headers)) {
      hdrs.set(name, value);
    }

    return () => this.send(subject, request.body, hdrs, request.deadline, request.callers);
  }

  private async send(
    subject: string,
    body: Uint8Array,
    hdrs: MsgHdrs,
    deadline: number,
    callers: boolean,
  ): Promise<Uint8Array> {
    let reply;
    try {
      reply = await this.requests.request(subject, body, {
        timeoutMs: Math.max(1, deadline - Date.now()),
        headers: hdrs,
      });
    } catch (error) {
      const failure = fromNatsError(error, subject);
      if (callers && failure.code === ErrorCode.Timeout) {
        throw new VivifiedError(ErrorCode.Timeout, failure.message, {
          reason: CALLER_DEADLINE,
          cause: error,
        });
      }
      throw failure;
    }
    if (reply.headers?.get(headerNames.errorCode)) {
      readReply(reply.data, reply.headers);
    }

    return reply.data;
  }

  /** The lane details of an `rpc.call` input: the caller as source, the target's registered traits, the operation. */
  private enrich(input: PolicyInput, context: EnrichmentContext): PolicyInput {
    const match = RPC_SUBJECT.exec(context.subject);
    const target = match?.[1] ?? '';
    const entry = this.directory.active(target);

    return {
      ...input,
      source: { pluginId: input.principal.id, traits: input.principal.traits },
      target: { pluginId: target, traits: entry?.traits ?? [] },
      context: { ...input.context, operation: match?.[2] ?? '' },
    };
  }

  private subjectOf(call: OperatorCall): string {
    try {
      return dynamicSubjects.rpcCall(call.target, call.operation);
    } catch (error) {
      if (error instanceof SubjectTokenError) {
        throw new VivifiedError(ErrorCode.BadRequest, error.message, { reason: 'invalid_subject' });
      }
      throw error;
    }
  }

  private declaredClassification(hdrs: MsgHdrs | undefined): Classification[] {
    try {
      return parseClassification(hdrs?.get(headerNames.classification));
    } catch (error) {
      throw new VivifiedError(ErrorCode.BadRequest, (error as Error).message, { cause: error });
    }
  }

  /** After the caller is allowed: the target must be active and declare the operation. */
  private checkTarget(
    call: OperatorCall,
    active: PluginStatusEntry | undefined,
    operation: ManifestOperation | undefined,
  ): ManifestOperation {
    if (!active) {
      const status = this.directory.get(call.target)?.status;
      if (status === undefined) {
        throw new VivifiedError(ErrorCode.NotFound, 'no such target', { reason: 'target_unknown' });
      }
      throw new VivifiedError(ErrorCode.PluginInactive, 'target not active', { reason: `target_${status}` });
    }
    if (!operation) {
      throw new VivifiedError(ErrorCode.NotFound, 'the target does not declare this operation', {
        reason: 'operation_unknown',
      });
    }

    return operation;
  }

  /** The operation's timeout from now, or the caller's own deadline when it is earlier. */
  private deadlineOf(hdrs: MsgHdrs | undefined, timeoutMs: number): { deadline: number; callers: boolean } {
    const own = Date.now() + timeoutMs;
    const theirs = Number(hdrs?.get(headerNames.deadline) || 0);
    if (Number.isFinite(theirs) && theirs > 0) {
      if (theirs <= Date.now()) {
        throw new VivifiedError(ErrorCode.Timeout, 'the caller stopped waiting before the call was made', {
          reason: CALLER_DEADLINE,
        });
      }

      return theirs < own ? { deadline: theirs, callers: true } : { deadline: own, callers: false };
    }

    return { deadline: own, callers: false };
  }

  private finish(
    call: OperatorCall,
    principal: Principal | undefined,
    classification: Classification[],
    traceId: string,
    started: number,
    attempts: number,
    sanitized: boolean,
    failure: VivifiedError | undefined,
  ): void {
    const seconds = (performance.now() - started) / 1000;
    const outcome = outcomeOf(failure);
    this.metrics.call('operator', outcome, failure?.code ?? 'OK', seconds);
    this.auditQueue.add({
      category: 'rpc',
      action: 'rpc.call',
      outcome,
      actor: principal
        ? { kind: principal.kind, id: `${principal.kind}:${principal.id}` }
        : { kind: 'anonymous', id: 'anonymous' },
      target: `plugin:${call.target.slice(0, 100)}`,
      ...(principal?.kind === 'plugin' ? { pluginId: principal.id } : {}),
      classification,
      details: {
        operation: call.operation.slice(0, 100),
        latencyMs: Math.round(seconds * 100_000) / 100,
        traceId,
        attempts,
        sanitized,
        ...(failure ? { code: failure.code, ...(failure.reason ? { reason: failure.reason } : {}) } : {}),
      },
    });
  }
}
