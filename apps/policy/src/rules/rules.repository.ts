import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { PG_POOL, withTransaction } from '@vivified/service-kit';
import type { Pool, PoolClient } from 'pg';

/** The current rule set; version 0 (no rules, no author) before the first change. */
export interface RuleSetRecord {
  version: number;
  rules: unknown[];
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** One saved version. */
export interface RuleVersionRecord {
  version: number;
  rules: unknown[];
  changedBy: string;
  changedAt: Date;
  reason: string | null;
}

/** A change to save. */
export interface RuleChange {
  rules: readonly unknown[];
  changedBy: string;
  changedAt: Date;
  reason: string | null;
  /** Save only if this is still the current version. */
  expectedVersion?: number;
}

/** The outcome of {@link RulesRepository.save}. */
export type SaveOutcome =
  | { saved: RuleSetRecord; previous: RuleSetRecord }
  | { conflict: true; current: RuleSetRecord };

/** Serializes rule changes and bundle publication across replicas for the length of a transaction. */
const RULES_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('vivified.policy.rules', 0))";

const EMPTY: RuleSetRecord = { version: 0, rules: [], updatedAt: null, updatedBy: null };

interface CurrentRow {
  version: number;
  rules: unknown[];
  updated_at: Date;
  updated_by: string;
}

interface HistoryRow {
  version: number;
  rules: unknown[];
  changed_by: string;
  changed_at: Date;
  reason: string | null;
}

const toCurrent = (row: CurrentRow | undefined): RuleSetRecord =>
  row
    ? { version: row.version, rules: row.rules, updatedAt: row.updated_at, updatedBy: row.updated_by }
    : EMPTY;

/** The admin rules in policy's schema: `current_rules` (one row) and the append-only `rule_history`. */
@Injectable()
export class RulesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async current(): Promise<RuleSetRecord> {
    return this.readCurrent(this.pool);
  }

  /** Versions below `before` (all when absent), newest first. */
  async history(limit: number, before?: number): Promise<RuleVersionRecord[]> {
    const { rows } = await this.pool.query<HistoryRow>(
      `SELECT version::integer AS version, rules, changed_by, changed_at, reason FROM rule_history
        WHERE $1::bigint IS NULL OR version < $1::bigint
        ORDER BY version DESC LIMIT $2`,
      [before ?? null, limit],
    );

    return rows.map((row) => ({
      version: row.version,
      rules: row.rules,
      changedBy: row.changed_by,
      changedAt: row.changed_at,
      reason: row.reason,
    }));
  }

  /** Saves `change` as the next version, unless `expectedVersion` is given and no longer current. */
  async save(change: RuleChange): Promise<SaveOutcome> {
    return this.locked(async (client) => {
      const previous = await this.readCurrent(client);
      if (change.expectedVersion !== undefined && change.expectedVersion !== previous.version) {
        return { conflict: true, current: previous };
      }
      const version = previous.version + 1;
      const rules = JSON.stringify(change.rules);
      await client.query(
        `INSERT INTO rule_history (version, rules, changed_by, changed_at, reason)
         VALUES ($1, $2::jsonb, $3, $4, $5)`,
        [version, rules, change.changedBy, change.changedAt, change.reason],
      );
      await client.query(
        `INSERT INTO current_rules (singleton, version, rules, updated_by, updated_at)
         VALUES (true, $1, $2::jsonb, $3, $4)
         ON CONFLICT (singleton) DO UPDATE
           SET version = EXCLUDED.version, rules = EXCLUDED.rules,
               updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
        [version, rules, change.changedBy, change.changedAt],
      );

      return { saved: await this.readCurrent(client), previous };
    });
  }

  /** Runs `work` with the current rule set while holding the rules lock (replicas publishing at start agree). */
  async withCurrentLocked<T>(work: (current: RuleSetRecord) => Promise<T>): Promise<T> {
    return this.locked(async (client) => work(await this.readCurrent(client)));
  }

  private async readCurrent(db: Pool | PoolClient): Promise<RuleSetRecord> {
    const { rows } = await db.query<CurrentRow>(
      'SELECT version::integer AS version, rules, updated_at, updated_by FROM current_rules',
    );

    return toCurrent(rows[0]);
  }

  private locked<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, async (client) => {
      await client.query(RULES_LOCK);

      return work(client);
    }).catch((error: unknown) => {
      throw translate(error);
    });
  }
}

/** Database errors become typed errors at this boundary; messages never carry the rules. */
function translate(error: unknown): unknown {
  if (error instanceof VivifiedError) {
    return error;
  }
  const code = (error as { code?: unknown }).code;
  if (code === '23505') {
    return new VivifiedError(ErrorCode.Conflict, 'the rules changed meanwhile', {
      reason: 'version_conflict',
      cause: error,
    });
  }
  if (typeof code === 'string' && code.startsWith('22')) {
    return new VivifiedError(ErrorCode.ValidationFailed, 'the rules cannot be stored', {
      reason: 'invalid_data',
      cause: error,
    });
  }

  return error;
}
