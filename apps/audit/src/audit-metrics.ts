import { Inject, Injectable } from '@nestjs/common';
import type { ServiceMetrics } from '@vivified/service-kit';
import { METRIC_PREFIX, METRICS } from '@vivified/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Metrics of the audit trail, on the process registry `/metrics` serves. */
@Injectable()
export class AuditMetrics {
  private readonly ingested: Counter<'result'>;
  private readonly lag: Gauge;
  private readonly batch: Histogram;
  private readonly verification: Gauge;
  private readonly verifiedAt: Gauge;
  private readonly checkpoints: Counter;

  constructor(@Inject(METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.ingested = new Counter({
      name: `${METRIC_PREFIX}audit_records_ingested_total`,
      help: 'Audit records taken from VIVIFIED_AUDIT: stored, duplicate (redelivery) or invalid (terminated)',
      labelNames: ['result'],
      registers,
    });
    this.lag = new Gauge({
      name: `${METRIC_PREFIX}audit_ingest_lag_records`,
      help: 'Records in VIVIFIED_AUDIT not yet stored: pending plus unacknowledged on the ingest consumer',
      registers,
    });
    this.batch = new Histogram({
      name: `${METRIC_PREFIX}audit_ingest_batch_size`,
      help: 'Records per ingest transaction',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    });
    this.verification = new Gauge({
      name: `${METRIC_PREFIX}audit_last_verification_ok`,
      help: 'Result of the last hash-chain verification: 1 intact, 0 broken',
      registers,
    });
    this.verifiedAt = new Gauge({
      name: `${METRIC_PREFIX}audit_last_verification_timestamp_seconds`,
      help: 'When the last hash-chain verification finished',
      registers,
    });
    this.checkpoints = new Counter({
      name: `${METRIC_PREFIX}audit_checkpoints_total`,
      help: 'Signed checkpoints written by this replica',
      registers,
    });
  }

  batchStored(size: number, inserted: number, duplicates: number): void {
    this.batch.observe(size);
    this.ingested.inc({ result: 'stored' }, inserted);
    if (duplicates > 0) {
      this.ingested.inc({ result: 'duplicate' }, duplicates);
    }
  }

  invalid(count = 1): void {
    this.ingested.inc({ result: 'invalid' }, count);
  }

  setLag(records: number): void {
    this.lag.set(records);
  }

  verified(ok: boolean): void {
    this.verification.set(ok ? 1 : 0);
    this.verifiedAt.set(Date.now() / 1000);
  }

  checkpointWritten(): void {
    this.checkpoints.inc();
  }
}
