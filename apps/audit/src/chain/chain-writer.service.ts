import { Inject, Injectable } from '@nestjs/common';
import type { AuditRecord } from '@vivified/contracts';
import { SERVICE_CONFIG } from '@vivified/service-kit';

import type { AuditConfig } from '../config';
import type { ChainHead, ChainTx, DroppedPartition, StoredRow } from '../store/audit.repository';
import { AuditRepository } from '../store/audit.repository';
import type { ChainRow } from './chain-hash';
import { canonicalJson, canonicalRowWithDetails, hashOfCanonical } from './chain-hash';
import { CheckpointSigner } from './checkpoint-signer';

/** What one append did. */
export interface AppendResult {
  inserted: number;
  duplicates: number;
  head: ChainHead;
  checkpointed: boolean;
}

const MONTH_MS = 31 * 24 * 60 * 60 * 1000;

/** How many months of partitions exist ahead of the current one. */
export const PARTITIONS_AHEAD = 2;

/**
 * Extends the hash chain: one transaction per batch under the chain lock, so replicas take turns and the chain
 * never forks. Records already stored (redeliveries) are skipped; a signed checkpoint follows every N records.
 */
@Injectable()
export class ChainWriter {
  private knownPartition = '';

  constructor(
    private readonly repository: AuditRepository,
    private readonly signer: CheckpointSigner,
    @Inject(SERVICE_CONFIG) private readonly config: AuditConfig,
  ) {}

  /** Stores sanitized records in order, each once. */
  append(records: readonly AuditRecord[], storedAt = new Date()): Promise<AppendResult> {
    return this.repository.withChainLock(async (tx) => {
      await this.ensurePartitions(tx, storedAt);
      const ids = new Set(records.map((record) => record.id));
      const unique =
        ids.size === records.length
          ? records
          : [...new Map(records.map((record) => [record.id, record])).values()];
      const fresh = await tx.claimIds(
        unique.map((record) => record.id),
        storedAt,
      );
      const head = await tx.head();
      const rows: StoredRow[] = [];
      const details: string[] = [];
      let { seq, hash } = head;
      const storedIso = storedAt.toISOString();
      for (const record of unique) {
        if (!fresh.has(record.id)) {
          continue;
        }
        seq += 1;
        const row = chainRowOf(record, seq, storedIso);
        const detailsJson = canonicalJson(row.details);
        const next = hashOfCanonical(canonicalRowWithDetails(row, detailsJson), hash);
        // the hashed fields are read above; the row becomes the stored row in place (no copy per record)
        rows.push(Object.assign(row, { prevHash: hash, hash: next }));
        details.push(detailsJson);
        hash = next;
      }
      await tx.insertRows(rows, details);
      let sinceCheckpoint = head.sinceCheckpoint + rows.length;
      let checkpointed = false;
      if (sinceCheckpoint >= this.config.checkpointEvery) {
        await this.checkpoint(tx, { seq, hash }, []);
        sinceCheckpoint = 0;
        checkpointed = true;
      }
      const newHead = { seq, hash, sinceCheckpoint };
      await tx.setHead(newHead);

      return { inserted: rows.length, duplicates: records.length - rows.length, head: newHead, checkpointed };
    });
  }

  /** Writes a checkpoint when records arrived since the last one (the timer's T seconds). */
  checkpointIfPending(): Promise<boolean> {
    return this.repository.withChainLock(async (tx) => {
      const head = await tx.head();
      if (head.sinceCheckpoint === 0) {
        return false;
      }
      await this.checkpoint(tx, head, []);
      await tx.setHead({ ...head, sinceCheckpoint: 0 });

      return true;
    });
  }

  /**
   * Drops the partitions whose every row was stored before `cutoff`: a checkpoint recording what each held
   * (seq range, count, last hash) is written first, in the same transaction.
   */
  dropPartitionsBefore(cutoff: Date): Promise<DroppedPartition[]> {
    return this.repository.withChainLock(async (tx) => {
      const expired = await tx.partitionsEndingBefore(cutoff);
      if (expired.length === 0) {
        return [];
      }
      const dropped = await Promise.all(expired.map((partition) => tx.describePartition(partition)));
      const head = await tx.head();
      await this.checkpoint(tx, head, dropped);
      await tx.setHead({ ...head, sinceCheckpoint: 0 });
      for (const partition of expired) {
        await tx.dropPartition(partition);
      }
      this.knownPartition = '';

      return dropped;
    });
  }

  /** Creates this month's partition and the next ones ahead. */
  ensurePartitionsAhead(now = new Date()): Promise<void> {
    return this.repository.withChainLock(async (tx) => {
      for (let ahead = 0; ahead <= PARTITIONS_AHEAD; ahead++) {
        await tx.ensurePartition(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1)));
      }
    });
  }

  private async ensurePartitions(tx: ChainTx, storedAt: Date): Promise<void> {
    const month = storedAt.toISOString().slice(0, 7);
    if (month === this.knownPartition) {
      return;
    }
    await tx.ensurePartition(storedAt);
    await tx.ensurePartition(new Date(storedAt.getTime() + MONTH_MS));
    this.knownPartition = month;
  }

  private async checkpoint(tx: ChainTx, head: Pick<ChainHead, 'seq' | 'hash'>, dropped: DroppedPartition[]) {
    const last = await tx.lastCheckpoint();
    await tx.insertCheckpoint(
      this.signer.sign({
        n: (last?.n ?? 0) + 1,
        seqTo: head.seq,
        headHash: head.hash,
        prevSignature: last?.signature ?? '',
        dropped,
        createdAt: new Date().toISOString(),
      }),
    );
  }
}

/** The hashed fields of a record at a place in the chain. */
export function chainRowOf(record: AuditRecord, seq: number, storedAt: string): ChainRow {
  return {
    seq,
    id: record.id,
    ts: new Date(record.ts).toISOString(),
    storedAt,
    category: record.category,
    action: record.action,
    outcome: record.outcome,
    actorKind: record.actor.kind,
    actorId: record.actor.id,
    target: record.target ?? null,
    pluginId: record.pluginId ?? null,
    traceId: record.traceId ?? null,
    classification: [...record.classification],
    phiInvolved: record.phiInvolved,
    service: record.service,
    details: record.details,
  };
}
