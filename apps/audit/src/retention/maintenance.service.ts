import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { AuditEmitter, ServiceLogger } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';

import { AuditMetrics } from '../audit-metrics';
import { ChainWriter } from '../chain/chain-writer.service';
import { CheckpointSigner } from '../chain/checkpoint-signer';
import type { AuditConfig } from '../config';
import { retentionProblem } from '../config';
import type { DroppedPartition } from '../store/audit.repository';
import { VerifyService } from '../verify/verify.service';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The trail's housekeeping: loads the checkpoint key at start, writes a checkpoint every T seconds while records
 * arrive, creates month partitions ahead and drops expired ones (retention) after a checkpoint recording them, and
 * verifies the rows stored since the last verification (the `last_verification_ok` metric).
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly writer: ChainWriter,
    private readonly signer: CheckpointSigner,
    private readonly metrics: AuditMetrics,
    private readonly verifier: VerifyService,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(SERVICE_CONFIG) private readonly config: AuditConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const problem = retentionProblem(this.config);
    if (problem) {
      throw new Error(problem);
    }
    await this.signer.load();
    await this.writer.ensurePartitionsAhead();
    this.every(this.config.checkpointIntervalSeconds * 1000, async () => {
      if (await this.writer.checkpointIfPending()) {
        this.metrics.checkpointWritten();
      }
    });
    // retention once at start, in the background: a long drop must not hold up readiness
    void this.applyRetention().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'audit retention failed, retrying later'),
    );
    this.every(this.config.maintenanceIntervalSeconds * 1000, async () => {
      await this.writer.ensurePartitionsAhead();
      await this.applyRetention();
      const verdict = await this.verifier.verifyRecent();
      if (!verdict.ok) {
        this.logger.error(
          { firstBrokenRow: verdict.firstBrokenRow, firstBrokenCheckpoint: verdict.firstBrokenCheckpoint },
          'audit trail verification failed',
        );
      }
    });
  }

  onApplicationShutdown(): void {
    this.timers.forEach((timer) => clearInterval(timer));
    this.timers = [];
  }

  /** Drops the partitions past retention as of `now`; resolves what was dropped. */
  async applyRetention(now = new Date()): Promise<DroppedPartition[]> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    const dropped = await this.writer.dropPartitionsBefore(cutoff);
    if (dropped.length > 0) {
      this.metrics.checkpointWritten();
      this.logger.info(
        { dropped: dropped.map((partition) => partition.partition) },
        'expired audit partitions dropped',
      );
      await this.audit.emit({
        category: 'audit',
        action: 'retention.drop',
        outcome: 'success',
        actor: { kind: 'service', id: 'service:audit' },
        details: { retentionDays: this.config.retentionDays, cutoff: cutoff.toISOString(), dropped },
      });
    }

    return dropped;
  }

  private every(ms: number, work: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running) {
        return;
      }
      running = true;
      work()
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'audit maintenance failed, retrying later'),
        )
        .finally(() => {
          running = false;
        });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}
