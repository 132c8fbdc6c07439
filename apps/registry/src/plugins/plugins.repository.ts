import { Inject, Injectable } from '@nestjs/common';
import type { PluginHealth, PluginStatus } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { PG_POOL, withTransaction } from '@vivified/service-kit';
import type { Pool, PoolClient } from 'pg';

import type { PluginRecord, SensitiveSet, StoredManifest } from './plugin-record';

const UNIQUE_VIOLATION = '23505';

/** Statuses a row can hold; `revoked` plugins are deleted. */
export type StoredStatus = Exclude<PluginStatus, 'revoked'>;

interface PluginRow {
  id: string;
  status: StoredStatus;
  name: string;
  version: string;
  description: string;
  manifest: StoredManifest;
  manifest_digest: string;
  traits: string[];
  sensitive: SensitiveSet;
  pending_manifest: StoredManifest | null;
  pending_digest: string | null;
  pending_sensitive: SensitiveSet | null;
  registered_by: string;
  registered_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
  activated_at: Date | null;
  updated_at: Date;
  health: PluginHealth;
  health_reported: 'ok' | 'degraded' | null;
  last_heartbeat_at: Date | null;
}

const toRecord = (row: PluginRow): PluginRecord => ({
  id: row.id,
  status: row.status,
  name: row.name,
  version: row.version,
  description: row.description,
  manifest: row.manifest,
  manifestDigest: row.manifest_digest,
  traits: row.traits,
  sensitive: row.sensitive,
  pending:
    row.pending_manifest && row.pending_digest && row.pending_sensitive
      ? { manifest: row.pending_manifest, digest: row.pending_digest, sensitive: row.pending_sensitive }
      : undefined,
  registeredBy: row.registered_by,
  registeredAt: row.registered_at,
  approvedBy: row.approved_by ?? undefined,
  approvedAt: row.approved_at ?? undefined,
  activatedAt: row.activated_at ?? undefined,
  updatedAt: row.updated_at,
  health: row.health,
  healthReported: row.health_reported ?? undefined,
  lastHeartbeatAt: row.last_heartbeat_at ?? undefined,
});

/** One transaction's connection, as the service passes it back to the repository. */
export type Tx = PoolClient;

/** Plugins in PostgreSQL (schema `registry`). */
@Injectable()
export class PluginsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work);
  }

  /** The plugin, its row locked until the transaction ends. */
  async lock(tx: Tx, id: string): Promise<PluginRecord | undefined> {
    const { rows } = await tx.query<PluginRow>('SELECT * FROM plugins WHERE id = $1 FOR UPDATE', [id]);

    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async get(id: string): Promise<PluginRecord | undefined> {
    const { rows } = await this.pool.query<PluginRow>('SELECT * FROM plugins WHERE id = $1', [id]);

    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(status?: StoredStatus): Promise<PluginRecord[]> {
    const { rows } =
      status === undefined
        ? await this.pool.query<PluginRow>('SELECT * FROM plugins ORDER BY id')
        : await this.pool.query<PluginRow>('SELECT * FROM plugins WHERE status = $1 ORDER BY id', [status]);

    return rows.map(toRecord);
  }

  /** Ids of every registered plugin (dependencies must name one). */
  async ids(tx?: Tx): Promise<Set<string>> {
    const { rows } = await (tx ?? this.pool).query<{ id: string }>('SELECT id FROM plugins');

    return new Set(rows.map((row) => row.id));
  }

  /** Inserts a new plugin; `CONFLICT` when another registration of the same id committed first. */
  async insert(tx: Tx, record: PluginRecord): Promise<void> {
    try {
      await tx.query(
        'INSERT INTO plugins (id, status, name, version, description, manifest, manifest_digest, traits, sensitive, registered_by, registered_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
        [
          record.id,
          record.status,
          record.name,
          record.version,
          record.description,
          JSON.stringify(record.manifest),
          record.manifestDigest,
          record.traits,
          JSON.stringify(record.sensitive),
          record.registeredBy,
          record.registeredAt,
          record.updatedAt,
        ],
      );
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new VivifiedError(ErrorCode.Conflict, 'a plugin with this id was registered meanwhile', {
          reason: 'plugin_exists',
        });
      }
      throw error;
    }
    await this.save(tx, record);
  }

  /** Replaces every column of a plugin (inserting it when missing). */
  async save(tx: Tx, record: PluginRecord): Promise<void> {
    await tx.query(
      `INSERT INTO plugins (id, status, name, version, description, manifest, manifest_digest, traits, sensitive,
         pending_manifest, pending_digest, pending_sensitive, registered_by, registered_at, approved_by, approved_at,
         activated_at, updated_at, health, health_reported, last_heartbeat_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, name = EXCLUDED.name, version = EXCLUDED.version,
         description = EXCLUDED.description, manifest = EXCLUDED.manifest, manifest_digest = EXCLUDED.manifest_digest,
         traits = EXCLUDED.traits, sensitive = EXCLUDED.sensitive, pending_manifest = EXCLUDED.pending_manifest,
         pending_digest = EXCLUDED.pending_digest, pending_sensitive = EXCLUDED.pending_sensitive,
         approved_by = EXCLUDED.approved_by, approved_at = EXCLUDED.approved_at,
         activated_at = EXCLUDED.activated_at, updated_at = EXCLUDED.updated_at, health = EXCLUDED.health,
         health_reported = EXCLUDED.health_reported, last_heartbeat_at = EXCLUDED.last_heartbeat_at`,
      [
        record.id,
        record.status,
        record.name,
        record.version,
        record.description,
        JSON.stringify(record.manifest),
        record.manifestDigest,
        record.traits,
        JSON.stringify(record.sensitive),
        record.pending ? JSON.stringify(record.pending.manifest) : null,
        record.pending?.digest ?? null,
        record.pending ? JSON.stringify(record.pending.sensitive) : null,
        record.registeredBy,
        record.registeredAt,
        record.approvedBy ?? null,
        record.approvedAt ?? null,
        record.activatedAt ?? null,
        record.updatedAt,
        record.health,
        record.healthReported ?? null,
        record.lastHeartbeatAt ?? null,
      ],
    );
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.query('DELETE FROM plugins WHERE id = $1', [id]);
  }

  /** Records a heartbeat; answers the row as it was before (undefined: no such plugin). */
  async heartbeat(
    id: string,
    reported: 'ok' | 'degraded',
    at: Date,
  ): Promise<{ before: PluginRecord; after: PluginRecord } | undefined> {
    return this.transaction(async (tx) => {
      const before = await this.lock(tx, id);
      if (!before) {
        return undefined;
      }
      const after: PluginRecord = { ...before, healthReported: reported, lastHeartbeatAt: at };
      await tx.query('UPDATE plugins SET health_reported = $2, last_heartbeat_at = $3 WHERE id = $1', [
        id,
        reported,
        at,
      ]);

      return { before, after };
    });
  }

  /** Moves a plugin's health from `from` to `to`; false when another replica moved it first. */
  async changeHealth(id: string, from: PluginHealth, to: PluginHealth): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE plugins SET health = $3 WHERE id = $1 AND health = $2',
      [id, from, to],
    );

    return (rowCount ?? 0) > 0;
  }

  /** How many plugins are in each state, and each health of the active ones. */
  async counts(): Promise<{ status: Record<string, number>; health: Record<string, number> }> {
    const { rows } = await this.pool.query<{ status: string; health: string; n: string }>(
      'SELECT status, health, count(*) AS n FROM plugins GROUP BY status, health',
    );
    const status: Record<string, number> = {};
    const health: Record<string, number> = {};
    for (const row of rows) {
      status[row.status] = (status[row.status] ?? 0) + Number(row.n);
      if (row.status === 'active') {
        health[row.health] = (health[row.health] ?? 0) + Number(row.n);
      }
    }

    return { status, health };
  }
}
