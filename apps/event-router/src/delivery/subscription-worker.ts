import type { StoredEventEnvelope } from '@vivified/contracts';
import { streams } from '@vivified/contracts';
import { decodeJson, redeliveryDelayMs, toVivifiedError } from '@vivified/nats-transport';
import type { TransportLogger } from '@vivified/nats-transport';
import { redactFields } from '@vivified/policy-sidecar';
import type { AuditEmitter, AuditInput } from '@vivified/service-kit';
import type { Consumer, ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { setTimeout as sleep } from 'node:timers/promises';

import type { EventMetrics } from '../event-metrics';
import type { PluginDirectory } from '../plugins/plugin-directory';
import type { SchemaRegistryService } from '../schemas/schema-registry.service';
import type { SubscriptionRow } from '../subscriptions/subscriptions.repository';
import { childTraceparent } from '@vivified/nats-transport';
import type { DeadLetters } from './dead-letters';
import type { Deliverer } from './deliverer';
import type { DeliveryPolicy } from './delivery-policy';

/** What every worker shares. */
export interface DeliveryRuntime {
  nc: NatsConnection;
  directory: PluginDirectory;
  policy: DeliveryPolicy;
  deliverer: Deliverer;
  deadLetters: DeadLetters;
  registry: SchemaRegistryService;
  audit: AuditEmitter;
  metrics: EventMetrics;
  log: TransportLogger;
  maxDeliveries: number;
  backoffMs: readonly number[];
  quarantineAfter: number;
  /** Called once when the worker's consecutive failures reach `quarantineAfter`. */
  quarantine(subscription: SubscriptionRow): void;
}

/** How long one pull waits for an event; a pause takes at most this long to settle. */
const PULL_EXPIRES_MS = 1_000;
/** Redelivery delay of an event held for a plugin that is not active (paused, not failed). */
const INACTIVE_DELAY_MS = 1_000;

/**
 * Delivers one subscription: pulls its durable consumer in batches of `maxAckPending` (1 keeps order), decides each
 * event with the live policy, delivers it, acks only after the plugin's ack, naks with backoff on failure, moves
 * the last failed attempt to the DLQ, and reports a continuous failure streak for quarantine.
 */
export class SubscriptionWorker {
  private running = false;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private consecutiveFailures = 0;

  constructor(
    readonly subscription: SubscriptionRow,
    private readonly rt: DeliveryRuntime,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) {
      return;
    }
    this.running = true;
    this.consecutiveFailures = 0;
    const previous = this.loop ?? Promise.resolve();
    this.loop = previous.then(() => this.run());
  }

  /** Stops pulling; resolves once the batch in hand is settled (acked or naked). */
  async pause(): Promise<void> {
    this.running = false;
    this.messages?.stop();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { id, maxAckPending } = this.subscription;
    let attempt = 0;
    while (this.running) {
      try {
        const consumer = await this.rt.nc.jetstream().consumers.get(streams.events.name, id);
        if (maxAckPending === 1) {
          // ordered: one pull at a time, each taking the next event as soon as it is stored; a pause settles
          // within one pull's expiry and nothing is left unacknowledged in a buffer
          while (this.running) {
            const msg = await consumer.next({ expires: PULL_EXPIRES_MS });
            if (msg) {
              await this.handle(msg);
            }
          }
        } else {
          await this.consumeConcurrently(consumer, maxAckPending);
        }
        attempt = 0;
      } catch (error) {
        if (!this.running) {
          break;
        }
        attempt += 1;
        this.rt.log.warn(
          { err: error, subscription: id, attempt },
          'subscription consumer unavailable, retrying',
        );
        await sleep(Math.min(250 * 2 ** attempt, 5_000));
      }
    }
  }

  /**
   * Concurrent delivery: a streaming pull of up to `limit` events, each handled as it arrives, at most `limit` at
   * once. A pause stops the stream; events it had already buffered come back after the ack wait.
   */
  private async consumeConcurrently(consumer: Consumer, limit: number): Promise<void> {
    const messages = await consumer.consume({ max_messages: limit });
    this.messages = messages;
    const active = new Set<Promise<void>>();
    try {
      for await (const msg of messages) {
        const work = this.handle(msg);
        active.add(work);
        void work.finally(() => active.delete(work));
        if (active.size >= limit) {
          await Promise.race(active);
        }
        if (!this.running) {
          break;
        }
      }
    } finally {
      this.messages = undefined;
      messages.stop();
      await Promise.allSettled([...active]);
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { subscription: sub, rt } = this;
    let envelope: StoredEventEnvelope;
    try {
      envelope = decodeJson(msg.data) as StoredEventEnvelope;
    } catch {
      rt.log.error({ subscription: sub.id, seq: msg.seq }, 'stored event is not JSON; terminated');
      msg.term();

      return;
    }
    const target = rt.directory.get(sub.pluginId);
    if (!this.running || target?.status !== 'active') {
      // held, not failed: the plugin is paused (disabled) or this worker is pausing
      msg.nak(INACTIVE_DELAY_MS);

      return;
    }
    const base = {
      category: 'event' as const,
      actor: { kind: 'service' as const, id: 'service:event-router' },
      pluginId: sub.pluginId,
      target: `plugin:${sub.pluginId}`,
      classification: envelope.classification,
    };
    const details = {
      eventId: envelope.eventId,
      eventType: envelope.eventType,
      subscriptionId: sub.id,
      sourcePluginId: envelope.source.pluginId,
      traceId: envelope.traceId,
    };
    const decision = rt.policy.decide(envelope, target);
    if (decision.effect === 'deny') {
      // refused deliveries are acked (never retried) and audited before the ack
      await rt.audit
        .emit({
          ...base,
          action: 'event.deliver',
          outcome: 'denied',
          details: { ...details, reason: decision.reason, ruleId: decision.ruleId },
        })
        .catch((error: unknown) => rt.log.error({ err: error }, 'delivery deny audit failed'));
      rt.metrics.denied.inc({ event_type: envelope.eventType, reason: decision.reason });
      msg.ack();

      return;
    }
    let delivered = envelope;
    let redacted: string[] = [];
    if (decision.effect === 'sanitize') {
      const schema = rt.registry.resolve(envelope.eventType, envelope.schemaVersion);
      redacted = [...new Set([...decision.redactFields, ...(schema?.piiFields ?? [])])];
      delivered = {
        ...envelope,
        payload: redactFields(envelope.payload, redacted) as Record<string, unknown>,
      };
    }
    const attempt = msg.info.deliveryCount;
    try {
      await rt.deliverer.deliver({
        target,
        envelope: delivered,
        subscriptionId: sub.id,
        attempt,
        traceparent: childTraceparent(envelope.traceId),
        // only the event-router writes the stream: an event delivered as stored goes out as its stored bytes
        ...(delivered === envelope ? { stored: msg.data } : {}),
      });
    } catch (error) {
      await this.failed(msg, envelope, attempt, error);

      return;
    }
    this.consecutiveFailures = 0;
    const record: AuditInput = {
      ...base,
      action: 'event.deliver',
      outcome: 'success',
      details: { ...details, attempt, ...(redacted.length > 0 ? { redactedFields: redacted } : {}) },
    };
    if (envelope.classification.includes('phi')) {
      // a PHI delivery's record is stored before the ack: a crash in between redelivers rather than loses it
      await rt.audit
        .emit(record)
        .catch((error: unknown) => rt.log.error({ err: error }, 'delivery audit failed'));
      msg.ack();
    } else {
      msg.ack();
      rt.audit.emitLater(record);
    }
    rt.metrics.delivered.inc({ event_type: envelope.eventType });
    const occurred = Date.parse(envelope.occurredAt);
    if (Number.isFinite(occurred)) {
      rt.metrics.deliveryLatency.observe(
        { event_type: envelope.eventType },
        Math.max(0, Date.now() - occurred) / 1000,
      );
    }
  }

  private async failed(
    msg: JsMsg,
    envelope: StoredEventEnvelope,
    attempt: number,
    error: unknown,
  ): Promise<void> {
    const { subscription: sub, rt } = this;
    const failure = toVivifiedError(error);
    rt.metrics.failed.inc({ event_type: envelope.eventType });
    this.consecutiveFailures += 1;
    if (attempt >= rt.maxDeliveries) {
      try {
        await rt.deadLetters.store({
          subscriptionId: sub.id,
          pluginId: sub.pluginId,
          eventType: envelope.eventType,
          attempts: attempt,
          error: {
            code: failure.code,
            message: failure.message,
            ...(failure.reason === undefined ? {} : { reason: failure.reason }),
          },
          failedAt: new Date().toISOString(),
          envelope,
        });
      } catch (dlqError) {
        rt.log.error(
          { err: dlqError, subscription: sub.id },
          'dead letter not stored; retrying the delivery',
        );
        msg.nak(redeliveryDelayMs(rt.backoffMs, attempt));

        return;
      }
      msg.term();
      rt.metrics.deadLettered.inc({ event_type: envelope.eventType });
      rt.audit
        .emit({
          category: 'event',
          action: 'event.dead_letter',
          outcome: 'failure',
          actor: { kind: 'service', id: 'service:event-router' },
          pluginId: sub.pluginId,
          target: `plugin:${sub.pluginId}`,
          classification: envelope.classification,
          details: {
            eventId: envelope.eventId,
            eventType: envelope.eventType,
            subscriptionId: sub.id,
            attempts: attempt,
            errorCode: failure.code,
            ...(failure.reason === undefined ? {} : { reason: failure.reason }),
          },
        })
        .catch((auditError: unknown) => rt.log.error({ err: auditError }, 'dead letter audit failed'));
      rt.log.warn(
        { subscription: sub.id, eventId: envelope.eventId, attempts: attempt },
        'event dead-lettered',
      );
    } else {
      msg.nak(redeliveryDelayMs(rt.backoffMs, attempt));
    }
    if (this.consecutiveFailures === rt.quarantineAfter) {
      this.running = false;
      rt.quarantine(sub);
    }
  }
}
