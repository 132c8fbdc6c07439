import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@vivified/contracts';
import { EgressResolver } from '@vivified/egress';
import type { ServiceLogger, ServiceMetrics } from '@vivified/service-kit';
import { METRICS, SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';
import { Counter } from 'prom-client';

import { PluginAudit, REGISTRY_ACTOR } from '../plugins/plugin-audit';
import type { PluginRecord } from '../plugins/plugin-record';
import { PluginsRepository } from '../plugins/plugins.repository';
import type { RegistryServiceConfig } from '../registry.config';
import { PluginHealthLeases } from './plugin-health.leases';
import { HealthProbe, healthUrlOf } from './plugin-health.probe';
import { PluginHealthService } from './plugin-health.service';

/** Share of the interval a poll's time moves by at random (±10 %), so polls of many plugins spread out. */
export const POLL_JITTER = 0.1;

/** One polled plugin. */
interface PollTarget {
  pluginId: string;
  url: URL;
  intervalMs: number;
  timer?: NodeJS.Timeout;
  inFlight: boolean;
  stopped: boolean;
  /** The reason of the last failure, so a failure streak is logged and audited once. */
  failing?: string;
}

/** The HTTP health check of an active plugin, or undefined when it has none. */
export function httpHealthCheckOf(record: PluginRecord): { url: URL; intervalMs: number } | undefined {
  const { healthCheck, delivery } = record.manifest;
  if (record.status !== 'active' || healthCheck.type !== 'http' || delivery.mode !== 'http') {
    return undefined;
  }
  const url = healthUrlOf(delivery.webhookUrl, healthCheck.path);

  return url === undefined ? undefined : { url, intervalMs: healthCheck.intervalSeconds * 1000 };
}

/**
 * Polls `GET <webhook origin><healthCheck.path>` of every active plugin with `healthCheck.type: http`, every
 * `intervalSeconds` (±10 % jitter, the first poll at a random point of the first interval), at most one poll in
 * flight per plugin, through the shared egress guard. A 2xx counts as a heartbeat (`ok`, or `degraded` when the
 * JSON answer says so): same stored fields, health moves, gauges and audit records as NATS heartbeats. A failed
 * poll is a missed heartbeat: the sweep makes the plugin degraded after 1.5 intervals and unhealthy after 3. The
 * set of polled plugins follows the database at every sweep, so disabling or revoking a plugin stops its polls;
 * with several replicas, one polls a given plugin ({@link PluginHealthLeases}).
 */
@Injectable()
export class PluginHealthPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly targets = new Map<string, PollTarget>();
  private readonly polls: Counter<'outcome'>;
  private probe: HealthProbe | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconciling: Promise<unknown> | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly health: PluginHealthService,
    private readonly repository: PluginsRepository,
    private readonly leases: PluginHealthLeases,
    private readonly audit: PluginAudit,
    private readonly resolver: EgressResolver,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryServiceConfig,
    @Inject(METRICS) metrics: ServiceMetrics,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {
    this.polls = new Counter({
      name: 'vivified_plugin_health_polls_total',
      help: 'HTTP health polls of plugins by outcome (ok, degraded, failed, refused)',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.probe = new HealthProbe(this.config, (host) => this.resolver.resolve(host));
    if (this.config.egressTestAllowRanges) {
      this.log.warn(
        { ranges: this.config.egressTestAllowRanges },
        'health polls: TEST allowance of private ranges is on',
      );
    }
    const reconcile = () => {
      this.reconciling ??= this.reconcile()
        .catch((error: unknown) => this.log.warn({ err: error }, 'plugin health poll set not refreshed'))
        .finally(() => (this.reconciling = undefined));
    };
    reconcile();
    this.timer = setInterval(reconcile, this.config.healthSweepMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    for (const target of this.targets.values()) {
      this.stopTarget(target);
    }
    this.targets.clear();
    await this.reconciling;
    await Promise.allSettled([...this.inFlight]);
    this.leases.close();
    await this.probe?.close();
  }

  /** The plugins polled now (tests, diagnostics). */
  polled(): string[] {
    return [...this.targets.keys()];
  }

  /** Starts polling new HTTP-checked plugins and stops the ones no longer active or changed. */
  async reconcile(): Promise<void> {
    const wanted = new Map<string, { url: URL; intervalMs: number }>();
    for (const record of await this.repository.list('active')) {
      const check = httpHealthCheckOf(record);
      if (check) {
        wanted.set(record.id, check);
      }
    }
    for (const [pluginId, target] of this.targets) {
      const next = wanted.get(pluginId);
      if (!next || next.url.href !== target.url.href || next.intervalMs !== target.intervalMs) {
        this.stopTarget(target);
        this.targets.delete(pluginId);
        if (!next) {
          await this.leases.release(pluginId);
        }
      }
    }
    for (const [pluginId, check] of wanted) {
      if (!this.targets.has(pluginId)) {
        const target: PollTarget = { pluginId, ...check, inFlight: false, stopped: false };
        this.targets.set(pluginId, target);
        this.schedule(target, Math.random() * Math.min(check.intervalMs, this.config.healthSweepMs * 2));
      }
    }
  }

  private stopTarget(target: PollTarget): void {
    target.stopped = true;
    clearTimeout(target.timer);
  }

  private schedule(target: PollTarget, delayMs: number): void {
    if (target.stopped) {
      return;
    }
    target.timer = setTimeout(() => {
      if (target.stopped) {
        return;
      }
      if (!target.inFlight) {
        target.inFlight = true;
        const poll = this.poll(target)
          .catch((error: unknown) =>
            this.log.warn({ err: error, pluginId: target.pluginId }, 'health poll failed'),
          )
          .finally(() => {
            target.inFlight = false;
            this.inFlight.delete(poll);
          });
        this.inFlight.add(poll);
      }
      const jitter = 1 + (Math.random() * 2 - 1) * POLL_JITTER;
      this.schedule(target, target.intervalMs * jitter);
    }, delayMs);
    target.timer.unref();
  }

  private async poll(target: PollTarget): Promise<void> {
    if (!this.probe || !(await this.leases.acquire(target.pluginId))) {
      return;
    }
    const timeoutMs = Math.min(this.config.healthPollTimeoutMs, target.intervalMs);
    const result = await this.probe.probe(target.url, timeoutMs);
    if (target.stopped) {
      return;
    }
    if (result.ok) {
      this.polls.inc({ outcome: result.status });
      if (target.failing !== undefined) {
        this.log.info({ pluginId: target.pluginId }, 'health poll answers again');
        target.failing = undefined;
      }
      if ((await this.health.polled(target.pluginId, result.status)) === undefined) {
        // disabled or revoked meanwhile: the next reconcile drops it; no more polls until then
        this.stopTarget(target);
      }

      return;
    }
    const reason = result.error.reason ?? result.error.code;
    const refused = result.error.code === ErrorCode.PolicyDenied;
    this.polls.inc({ outcome: refused ? 'refused' : 'failed' });
    if (target.failing === reason) {
      return;
    }
    target.failing = reason;
    this.log.warn({ pluginId: target.pluginId, reason }, 'health poll failed; counts as a missed heartbeat');
    if (refused) {
      // the egress policy refused the address: audited once per streak (every poll would flood the trail)
      await this.audit
        .record('plugin.health_poll', 'denied', REGISTRY_ACTOR, target.pluginId, { reason })
        .catch((error: unknown) => this.log.error({ err: error }, 'health poll refusal audit failed'));
    }
  }
}
