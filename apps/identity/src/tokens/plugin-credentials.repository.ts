import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

@Injectable()
export class PluginCredentialsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Stores a plugin's secret hash, replacing (and un-revoking) any earlier one. */
  async upsert(pluginId: string, secretHash: string, now: Date): Promise<void> {
    await this.pool.query(
      `INSERT INTO plugin_credentials (plugin_id, secret_hash, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (plugin_id) DO UPDATE
         SET secret_hash = EXCLUDED.secret_hash, created_at = EXCLUDED.created_at, revoked_at = NULL`,
      [pluginId, secretHash, now],
    );
  }

  /** Answers whether an active secret was revoked. */
  async revoke(pluginId: string, now: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE plugin_credentials SET revoked_at = $2 WHERE plugin_id = $1 AND revoked_at IS NULL`,
      [pluginId, now],
    );

    return (rowCount ?? 0) > 0;
  }

  /** The hash of a plugin's active secret. */
  async activeHash(pluginId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ secret_hash: string }>(
      `SELECT secret_hash FROM plugin_credentials WHERE plugin_id = $1 AND revoked_at IS NULL`,
      [pluginId],
    );

    return rows[0]?.secret_hash;
  }
}
