import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { PG_POOL, withTransaction } from '@vivified/service-kit';
import type { Pool, PoolClient } from 'pg';

/** A stored value: plain (`value`) or sealed (`sealed`), never both. */
export interface StoredValue {
  readonly value: unknown;
  readonly sealed: string | null;
}

/** A key that is set. */
export interface SetValue extends StoredValue {
  readonly version: number;
  readonly updatedBy: string;
  readonly updatedAt: Date;
}

/** The current config: its version and the keys that are set. Version 0 (nothing set) before the first change. */
export interface ConfigState {
  readonly version: number;
  readonly updatedAt: Date | null;
  readonly updatedBy: string | null;
  readonly values: ReadonlyMap<string, SetValue>;
}

/** One key of a change: the new value, or `undefined` for back to the default. */
export interface KeyChange {
  readonly key: string;
  readonly next: StoredValue | undefined;
}

/** A change to save. */
export interface ConfigChange {
  readonly keys: readonly KeyChange[];
  readonly changedBy: string;
  readonly changedAt: Date;
  readonly reason: string | null;
  /** Save only if this is still the current version. */
  readonly expectedVersion?: number;
}

/** One key as a version changed it. */
export interface ChangeRecord {
  readonly key: string;
  readonly from: StoredValue | undefined;
  readonly to: StoredValue | undefined;
}

/** One saved version. */
export interface VersionRecord {
  readonly version: number;
  readonly changedBy: string;
  readonly changedAt: Date;
  readonly reason: string | null;
  readonly changes: readonly ChangeRecord[];
}

/** The outcome of {@link ConfigRepository.save}. */
export type ConfigSaveOutcome =
  | { saved: ConfigState; previous: ConfigState; changes: ChangeRecord[] }
  | { conflict: true; current: ConfigState };

/** Serializes config changes across replicas for the length of a transaction. */
const CONFIG_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('vivified.policy.config', 0))";

interface ValueRow {
  key: string;
  value: unknown;
  sealed: string | null;
  version: number;
  updated_by: string;
  updated_at: Date;
}

interface VersionRow {
  version: number;
  changed_by: string;
  changed_at: Date;
  reason: string | null;
}

interface ChangeRow {
  version: number;
  key: string;
  old_value: unknown;
  old_sealed: string | null;
  new_value: unknown;
  new_sealed: string | null;
}

const stored = (value: unknown, sealed: string | null): StoredValue | undefined =>
  sealed !== null ? { value: null, sealed } : value === null ? undefined : { value, sealed: null };

/** The platform config in policy's schema: `config_values`, and the append-only `config_versions` + `config_changes`. */
@Injectable()
export class ConfigRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async current(): Promise<ConfigState> {
    return this.readCurrent(this.pool);
  }

  /** Versions below `before` (all when absent), newest first, with the keys each changed. */
  async history(limit: number, before?: number): Promise<VersionRecord[]> {
    const { rows: versions } = await this.pool.query<VersionRow>(
      `SELECT version::integer AS version, changed_by, changed_at, reason FROM config_versions
        WHERE $1::bigint IS NULL OR version < $1::bigint
        ORDER BY version DESC LIMIT $2`,
      [before ?? null, limit],
    );
    if (versions.length === 0) {
      return [];
    }
    const { rows: changes } = await this.pool.query<ChangeRow>(
      `SELECT version::integer AS version, key, old_value, old_sealed, new_value, new_sealed FROM config_changes
        WHERE version = ANY($1::bigint[]) ORDER BY version DESC, key`,
      [versions.map((row) => row.version)],
    );

    return versions.map((row) => ({
      version: row.version,
      changedBy: row.changed_by,
      changedAt: row.changed_at,
      reason: row.reason,
      changes: changes
        .filter((change) => change.version === row.version)
        .map((change) => ({
          key: change.key,
          from: stored(change.old_value, change.old_sealed),
          to: stored(change.new_value, change.new_sealed),
        })),
    }));
  }

  /** Saves `change` as the next version, unless `expectedVersion` is given and no longer current. */
  async save(change: ConfigChange): Promise<ConfigSaveOutcome> {
    return this.locked(async (client) => {
      const previous = await this.readCurrent(client);
      if (change.expectedVersion !== undefined && change.expectedVersion !== previous.version) {
        return { conflict: true, current: previous };
      }
      const version = previous.version + 1;
      await client.query(
        'INSERT INTO config_versions (version, changed_by, changed_at, reason) VALUES ($1, $2, $3, $4)',
        [version, change.changedBy, change.changedAt, change.reason],
      );
      const changes: ChangeRecord[] = [];
      for (const { key, next } of change.keys) {
        const from = previous.values.get(key);
        await client.query(
          `INSERT INTO config_changes (version, key, old_value, old_sealed, new_value, new_sealed)
           VALUES ($1, $2, $3::jsonb, $4, $5::jsonb, $6)`,
          [version, key, ...columns(from), ...columns(next)],
        );
        if (next === undefined) {
          await client.query('DELETE FROM config_values WHERE key = $1', [key]);
        } else {
          await client.query(
            `INSERT INTO config_values (key, value, sealed, version, updated_by, updated_at)
             VALUES ($1, $2::jsonb, $3, $4, $5, $6)
             ON CONFLICT (key) DO UPDATE
               SET value = EXCLUDED.value, sealed = EXCLUDED.sealed, version = EXCLUDED.version,
                   updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
            [key, ...columns(next), version, change.changedBy, change.changedAt],
          );
        }
        changes.push({
          key,
          from: from && { value: from.value, sealed: from.sealed },
          to: next,
        });
      }

      return { saved: await this.readCurrent(client), previous, changes };
    });
  }

  private async readCurrent(db: Pool | PoolClient): Promise<ConfigState> {
    const { rows: latest } = await db.query<VersionRow>(
      `SELECT version::integer AS version, changed_by, changed_at, reason FROM config_versions
        ORDER BY version DESC LIMIT 1`,
    );
    const { rows } = await db.query<ValueRow>(
      'SELECT key, value, sealed, version::integer AS version, updated_by, updated_at FROM config_values',
    );
    const head = latest[0];

    return {
      version: head?.version ?? 0,
      updatedAt: head?.changed_at ?? null,
      updatedBy: head?.changed_by ?? null,
      values: new Map(
        rows.map((row) => [
          row.key,
          {
            value: row.sealed === null ? row.value : null,
            sealed: row.sealed,
            version: row.version,
            updatedBy: row.updated_by,
            updatedAt: row.updated_at,
          },
        ]),
      ),
    };
  }

  private locked<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, async (client) => {
      await client.query(CONFIG_LOCK);

      return work(client);
    }).catch((error: unknown) => {
      throw translate(error);
    });
  }
}

/** `[jsonb value, sealed]` columns of a stored value (both NULL for the default). */
function columns(value: StoredValue | undefined): [string | null, string | null] {
  if (value === undefined) {
    return [null, null];
  }

  return value.sealed === null ? [JSON.stringify(value.value), null] : [null, value.sealed];
}

/** Database errors become typed errors at this boundary; messages never carry values. */
function translate(error: unknown): unknown {
  if (error instanceof VivifiedError) {
    return error;
  }
  const code = (error as { code?: unknown }).code;
  if (code === '23505') {
    return new VivifiedError(ErrorCode.Conflict, 'the config changed meanwhile', {
      reason: 'version_conflict',
      cause: error,
    });
  }
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))) {
    return new VivifiedError(ErrorCode.ValidationFailed, 'the config cannot be stored', {
      reason: 'invalid_data',
      cause: error,
    });
  }

  return error;
}
