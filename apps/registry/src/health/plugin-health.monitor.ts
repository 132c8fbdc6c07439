import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { ServiceLogger, ServiceMetrics } from '@vivified/service-kit';
import { METRICS, SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';
import { Gauge } from 'prom-client';

import { PluginsRepository } from '../plugins/plugins.repository';
import type { RegistryServiceConfig } from '../registry.config';
import { PluginHealthService } from './plugin-health.service';

const STATES = ['pending_approval', 'active', 'disabled'] as const;
const HEALTHS = ['unknown', 'healthy', 'degraded', 'unhealthy'] as const;

/**
 * Sweeps plugin health on a timer and serves the plugin gauges, read from the database at scrape time so they
 * stay true with several replicas: `vivified_active_plugins`, `vivified_plugins{state}` and
 * `vivified_plugin_health{health}` (active plugins).
 */
@Injectable()
export class PluginHealthMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly health: PluginHealthService,
    private readonly repository: PluginsRepository,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryServiceConfig,
    @Inject(METRICS) metrics: ServiceMetrics,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {
    const registers = [metrics.registry];
    const counts = () => this.repository.counts();
    new Gauge({
      name: 'vivified_active_plugins',
      help: 'Plugins in the active state',
      registers,
      async collect() {
        this.set((await counts()).status['active'] ?? 0);
      },
    });
    new Gauge({
      name: 'vivified_plugins',
      help: 'Registered plugins by lifecycle state',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const { status } = await counts();
        for (const state of STATES) {
          this.set({ state }, status[state] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'vivified_plugin_health',
      help: 'Active plugins by health (from heartbeats)',
      labelNames: ['health'] as const,
      registers,
      async collect() {
        const { health } = await counts();
        for (const state of HEALTHS) {
          this.set({ health: state }, health[state] ?? 0);
        }
      },
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.health
        .sweep()
        .catch((error: unknown) => this.log.warn({ err: error }, 'plugin health sweep failed'))
        .finally(() => (this.running = undefined));
    }, this.config.healthSweepMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
