import { Inject, Injectable } from '@nestjs/common';
import type { ServiceMetrics } from '@vivified/service-kit';
import { METRIC_PREFIX, METRICS } from '@vivified/service-kit';
import { Counter, Gauge } from 'prom-client';

/** Metrics of the policy service's bundle publication, on the process registry `/metrics` serves. */
@Injectable()
export class PolicyMetrics {
  private readonly published: Gauge;
  private readonly rejected: Counter<'reason'>;

  constructor(@Inject(METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.published = new Gauge({
      name: `${METRIC_PREFIX}policy_service_bundle_version`,
      help: 'Version of the newest bundle this policy replica compiled, signed and saw in the bucket',
      registers,
    });
    this.rejected = new Counter({
      name: `${METRIC_PREFIX}policy_service_bundle_rejected_total`,
      help: 'Bundles found in the vivified_policy bucket that did not verify (forged, tampered, deleted)',
      labelNames: ['reason'],
      registers,
    });
  }

  setBundleVersion(version: number): void {
    this.published.set(version);
  }

  bundleRejected(reason: 'invalid' | 'deleted'): void {
    this.rejected.inc({ reason });
  }
}
