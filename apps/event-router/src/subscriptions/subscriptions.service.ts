import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type {
  DeadLetterReplayReply,
  DeadLetterReplayRequest,
  PluginStatusEntry,
  SubscriptionListReply,
  SubscriptionView,
} from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER, NATS_CONNECTION, SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';
import type { ServiceLogger } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

import type { EventRouterConfig } from '../config';
import { backoffList } from '../config';
import { DeadLetters } from '../delivery/dead-letters';
import { Deliverer } from '../delivery/deliverer';
import { DeliveryPolicy } from '../delivery/delivery-policy';
import type { DeliveryRuntime } from '../delivery/subscription-worker';
import { SubscriptionWorker } from '../delivery/subscription-worker';
import { WebhookSecretsService } from '../delivery/webhook-secrets.service';
import { EventMetrics } from '../event-metrics';
import type { PluginChange } from '../plugins/plugin-directory';
import { PluginDirectory } from '../plugins/plugin-directory';
import { SchemaRegistryService } from '../schemas/schema-registry.service';
import { JetStreamConsumers } from './jetstream-consumers';
import { baseEventType, subscriptionId } from './subscription-id';
import type { SubscriptionRow } from './subscriptions.repository';
import { SubscriptionsRepository } from './subscriptions.repository';

/** How often consumer lag is sampled for the gauge. */
const LAG_INTERVAL_MS = 15_000;

/**
 * Subscriptions and their lifecycle: a plugin's manifest `events.subscribes` become subscriptions when it is active;
 * `subscribe`/`unsubscribe` act on the caller's own only; each is a durable consumer with a worker. A disabled
 * (or pending) plugin's workers pause — its consumers keep every event — and resume on enable; a revoked or removed
 * plugin's consumers and subscriptions are deleted. A continuously failing subscription is quarantined.
 */
@Injectable()
export class SubscriptionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly workers = new Map<string, SubscriptionWorker>();
  private readonly runtime: DeliveryRuntime;
  /** Serializes lifecycle work per plugin so a burst of status changes applies in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private lagTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly repository: SubscriptionsRepository,
    private readonly consumers: JetStreamConsumers,
    private readonly directory: PluginDirectory,
    private readonly secrets: WebhookSecretsService,
    private readonly metrics: EventMetrics,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(SERVICE_CONFIG) private readonly config: EventRouterConfig,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    policy: DeliveryPolicy,
    deliverer: Deliverer,
    private readonly deadLetters: DeadLetters,
    registry: SchemaRegistryService,
  ) {
    this.runtime = {
      nc,
      directory,
      policy,
      deliverer,
      deadLetters,
      registry,
      audit,
      metrics,
      log,
      maxDeliveries: config.maxDeliveries,
      backoffMs: backoffList(config),
      quarantineAfter: config.quarantineAfter,
      quarantine: (subscription) => {
        void this.quarantine(subscription);
      },
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const row of await this.repository.all()) {
      this.workers.set(row.id, new SubscriptionWorker(row, this.runtime));
    }
    this.directory.onChange((change) => {
      void this.enqueue(change.pluginId, () => this.applyChange(change));
    });
    await this.directory.start();
    this.lagTimer = setInterval(() => void this.sampleLag(), LAG_INTERVAL_MS);
    this.lagTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.lagTimer);
    await Promise.allSettled([...this.chains.values()]);
    await Promise.allSettled([...this.workers.values()].map((worker) => worker.pause()));
  }

  /** Subscribes the calling plugin to types (idempotent); answers its subscriptions. */
  async subscribe(principal: Principal, eventTypes: readonly string[]): Promise<SubscriptionListReply> {
    const pluginId = this.pluginOf(principal);
    await this.enqueue(pluginId, async () => {
      for (const type of eventTypes) {
        await this.ensure(pluginId, baseEventType(type), 'api');
      }
    });
    void this.audit
      .emit({
        category: 'event',
        action: 'event.subscribe',
        outcome: 'success',
        actor: { kind: 'plugin', id: `plugin:${pluginId}` },
        pluginId,
        details: { eventTypes: [...eventTypes] },
      })
      .catch(() => undefined);

    return this.listOwn(principal);
  }

  /** Removes the calling plugin's own subscriptions to types; another plugin's are never touched. */
  async unsubscribe(principal: Principal, eventTypes: readonly string[]): Promise<SubscriptionListReply> {
    const pluginId = this.pluginOf(principal);
    await this.enqueue(pluginId, async () => {
      const removed = await this.repository.deleteOwn(pluginId, eventTypes.map(baseEventType));
      for (const row of removed) {
        await this.drop(row.id);
      }
    });
    void this.audit
      .emit({
        category: 'event',
        action: 'event.unsubscribe',
        outcome: 'success',
        actor: { kind: 'plugin', id: `plugin:${pluginId}` },
        pluginId,
        details: { eventTypes: [...eventTypes] },
      })
      .catch(() => undefined);

    return this.listOwn(principal);
  }

  async listOwn(principal: Principal): Promise<SubscriptionListReply> {
    const rows = await this.repository.byPlugin(this.pluginOf(principal));
    const subscriptions = await Promise.all(rows.map((row) => this.view(row)));

    return { subscriptions };
  }

  /** Lifts a quarantine (or pause) and restarts delivery when the plugin is active. */
  async resume(subscriptionIdValue: string, principal: Principal): Promise<SubscriptionView> {
    const row = await this.repository.get(subscriptionIdValue);
    if (!row) {
      throw new VivifiedError(ErrorCode.NotFound, 'no such subscription');
    }
    await this.repository.setState(row.id, 'active');
    const updated = { ...row, state: 'active' as const };
    void this.audit
      .emit({
        category: 'event',
        action: 'event.subscription.resume',
        outcome: 'success',
        actor: { kind: principal.kind, id: `${principal.kind}:${principal.id}` },
        pluginId: row.pluginId,
        details: { subscriptionId: row.id },
      })
      .catch(() => undefined);
    this.restartWorker(updated);

    return this.view(updated);
  }

  /** Delivers a subscription's dead letters again, once each; delivered ones leave the DLQ. */
  async replay(request: DeadLetterReplayRequest, principal: Principal): Promise<DeadLetterReplayReply> {
    const row = await this.repository.get(request.subscriptionId);
    if (!row) {
      throw new VivifiedError(ErrorCode.NotFound, 'no such subscription');
    }
    const target = this.directory.get(row.pluginId);
    if (target?.status !== 'active') {
      throw new VivifiedError(ErrorCode.Conflict, 'the subscriber is not active', {
        reason: 'plugin_not_active',
      });
    }
    const letters = await this.deadLetters.read(row.id, request.limit ?? 100);
    let replayed = 0;
    let failed = 0;
    for (const { seq, letter } of letters) {
      const decision = this.runtime.policy.decide(letter.envelope, target);
      if (decision.effect === 'deny') {
        failed += 1;
        continue;
      }
      try {
        await this.runtime.deliverer.deliver({
          target,
          envelope: letter.envelope,
          subscriptionId: row.id,
          attempt: letter.attempts + 1,
          traceparent: `00-${letter.envelope.traceId}-${'0'.repeat(15)}1-01`,
        });
        await this.deadLetters.remove(seq);
        replayed += 1;
      } catch {
        failed += 1;
      }
    }
    void this.audit
      .emit({
        category: 'event',
        action: 'event.dead_letter.replay',
        outcome: failed === 0 ? 'success' : 'failure',
        actor: { kind: principal.kind, id: `${principal.kind}:${principal.id}` },
        pluginId: row.pluginId,
        details: { subscriptionId: row.id, replayed, failed },
      })
      .catch(() => undefined);

    return { replayed, failed, remaining: await this.deadLetters.count(row.id) };
  }

  /** The worker of a subscription (tests, bench). */
  worker(id: string): SubscriptionWorker | undefined {
    return this.workers.get(id);
  }

  private pluginOf(principal: Principal): string {
    if (principal.kind !== 'plugin') {
      throw new VivifiedError(ErrorCode.PolicyDenied, 'access denied', { reason: 'plugin_only' });
    }

    return principal.id;
  }

  private enqueue(pluginId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(pluginId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch((error: unknown) =>
      this.log.error({ err: error, pluginId }, 'subscription lifecycle step failed'),
    );
    this.chains.set(pluginId, settled);
    void settled.finally(() => {
      if (this.chains.get(pluginId) === settled) {
        this.chains.delete(pluginId);
      }
    });

    return next;
  }

  private async applyChange(change: PluginChange): Promise<void> {
    if (this.stopped) {
      return;
    }
    const { pluginId, entry } = change;
    if (!entry && change.vanished) {
      // unknown, not deleted: deliveries hold (as for a disabled plugin) and nothing durable is removed, so a
      // registry that writes the entry again finds every subscription and every event still there
      this.log.warn({ pluginId }, 'plugin missing from a fresh read of the plugins bucket: deliveries held');
      await this.pauseWorkersOf(pluginId);

      return;
    }
    if (!entry || entry.status === 'revoked') {
      await this.removePlugin(pluginId, entry === undefined ? 'removed' : 'revoked');

      return;
    }
    if (entry.status !== 'active') {
      await this.pauseWorkersOf(pluginId);

      return;
    }
    await this.activate(entry);
  }

  private async pauseWorkersOf(pluginId: string): Promise<void> {
    await Promise.all(
      [...this.workers.values()]
        .filter((worker) => worker.subscription.pluginId === pluginId)
        .map((worker) => worker.pause()),
    );
  }

  private async activate(entry: PluginStatusEntry): Promise<void> {
    for (const type of entry.events?.subscribes ?? []) {
      await this.ensure(entry.id, baseEventType(type), 'manifest');
    }
    for (const worker of this.workers.values()) {
      if (worker.subscription.pluginId === entry.id && worker.subscription.state === 'active') {
        worker.start();
      }
    }
  }

  private async ensure(
    pluginId: string,
    eventType: string,
    origin: 'manifest' | 'api',
  ): Promise<SubscriptionRow> {
    const id = subscriptionId(pluginId, eventType);
    await this.consumers.ensure({ id, eventType, maxAckPending: this.config.defaultConcurrency });
    const row = await this.repository.upsert({
      id,
      pluginId,
      eventType,
      origin,
      maxAckPending: this.config.defaultConcurrency,
    });
    if (!this.workers.has(row.id)) {
      const worker = new SubscriptionWorker(row, this.runtime);
      this.workers.set(row.id, worker);
      if (row.state === 'active' && this.directory.get(pluginId)?.status === 'active') {
        worker.start();
      }
    }

    return row;
  }

  private async drop(id: string): Promise<void> {
    const worker = this.workers.get(id);
    this.workers.delete(id);
    await worker?.pause();
    await this.consumers.remove(id);
    this.metrics.consumerLag.remove({ subscription: id });
  }

  private async removePlugin(pluginId: string, why: 'revoked' | 'removed'): Promise<void> {
    const removed = await this.repository.deletePlugin(pluginId);
    for (const row of removed) {
      await this.drop(row.id);
    }
    await this.secrets.remove(pluginId);
    if (removed.length > 0) {
      this.log.info({ pluginId, why, subscriptions: removed.length }, 'plugin subscriptions deleted');
      void this.audit
        .emit({
          category: 'event',
          action: 'event.subscriptions.delete',
          outcome: 'success',
          actor: { kind: 'service', id: 'service:event-router' },
          pluginId,
          details: { reason: why, subscriptions: removed.map((row) => row.id) },
        })
        .catch(() => undefined);
    }
  }

  private async quarantine(subscription: SubscriptionRow): Promise<void> {
    await this.repository.setState(subscription.id, 'quarantined');
    const worker = this.workers.get(subscription.id);
    if (worker) {
      // the worker stopped itself; keep a paused one that knows its state
      this.workers.set(
        subscription.id,
        new SubscriptionWorker({ ...subscription, state: 'quarantined' }, this.runtime),
      );
    }
    this.metrics.quarantined.inc();
    this.log.error(
      {
        alarm: 'event_subscription_quarantined',
        subscription: subscription.id,
        pluginId: subscription.pluginId,
      },
      'subscription quarantined after continuous delivery failures; an admin resumes it',
    );
    await this.audit
      .emit({
        category: 'event',
        action: 'event.subscription.quarantine',
        outcome: 'failure',
        actor: { kind: 'service', id: 'service:event-router' },
        pluginId: subscription.pluginId,
        details: { subscriptionId: subscription.id, failures: this.config.quarantineAfter },
      })
      .catch((error: unknown) => this.log.error({ err: error }, 'quarantine audit failed'));
  }

  private restartWorker(row: SubscriptionRow): void {
    const old = this.workers.get(row.id);
    const worker = new SubscriptionWorker(row, this.runtime);
    this.workers.set(row.id, worker);
    void (old?.pause() ?? Promise.resolve()).then(() => {
      if (this.directory.get(row.pluginId)?.status === 'active' && this.workers.get(row.id) === worker) {
        worker.start();
      }
    });
  }

  private async view(row: SubscriptionRow): Promise<SubscriptionView> {
    const pending = await this.consumers.lag(row.id).catch(() => undefined);

    return { ...row, ...(pending === undefined ? {} : { pending }) };
  }

  private async sampleLag(): Promise<void> {
    for (const id of this.workers.keys()) {
      const lag = await this.consumers.lag(id).catch(() => undefined);
      if (lag !== undefined) {
        this.metrics.consumerLag.set({ subscription: id }, lag);
      }
    }
  }
}
