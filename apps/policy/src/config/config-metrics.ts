import { Inject, Injectable } from '@nestjs/common';
import type { ServiceMetrics } from '@vivified/service-kit';
import { METRIC_PREFIX, METRICS } from '@vivified/service-kit';
import { Counter, Gauge } from 'prom-client';

/** Outcomes of a config change. */
export type ConfigUpdateOutcome = 'saved' | 'invalid' | 'conflict';

/** Metrics of the platform config, on the process registry `/metrics` serves. */
@Injectable()
export class ConfigMetrics {
  private readonly version: Gauge;
  private readonly updates: Counter<'outcome'>;

  constructor(@Inject(METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.version = new Gauge({
      name: `${METRIC_PREFIX}policy_service_config_version`,
      help: 'Version of the platform config this policy replica last published to vivified_config',
      registers,
    });
    this.updates = new Counter({
      name: `${METRIC_PREFIX}policy_service_config_updates_total`,
      help: 'Platform config changes by outcome (saved, invalid, conflict)',
      labelNames: ['outcome'],
      registers,
    });
  }

  published(version: number): void {
    this.version.set(version);
  }

  update(outcome: ConfigUpdateOutcome): void {
    this.updates.inc({ outcome });
  }
}
