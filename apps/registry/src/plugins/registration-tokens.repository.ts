import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

import type { Tx } from './plugins.repository';

/** A registration token as stored: its keyed hash, never the token. */
export interface RegistrationTokenRecord {
  id: string;
  pluginId?: string;
  createdBy: string;
  expiresAt: Date;
  usedAt?: Date;
}

@Injectable()
export class RegistrationTokensRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async insert(
    token: RegistrationTokenRecord & { tokenHash: string; note?: string; createdAt: Date },
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO registration_tokens (id, token_hash, plugin_id, note, created_by, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        token.id,
        token.tokenHash,
        token.pluginId ?? null,
        token.note ?? null,
        token.createdBy,
        token.createdAt,
        token.expiresAt,
      ],
    );
  }

  /** The token with this hash, its row locked until the transaction ends. */
  async lock(tx: Tx, tokenHash: string): Promise<RegistrationTokenRecord | undefined> {
    const { rows } = await tx.query<{
      id: string;
      plugin_id: string | null;
      created_by: string;
      expires_at: Date;
      used_at: Date | null;
    }>(
      'SELECT id, plugin_id, created_by, expires_at, used_at FROM registration_tokens WHERE token_hash = $1 FOR UPDATE',
      [tokenHash],
    );
    const row = rows[0];

    return row
      ? {
          id: row.id,
          createdBy: row.created_by,
          expiresAt: row.expires_at,
          ...(row.plugin_id ? { pluginId: row.plugin_id } : {}),
          ...(row.used_at ? { usedAt: row.used_at } : {}),
        }
      : undefined;
  }

  async markUsed(tx: Tx, id: string, pluginId: string, at: Date): Promise<void> {
    await tx.query('UPDATE registration_tokens SET used_at = $2, used_for = $3 WHERE id = $1', [
      id,
      at,
      pluginId,
    ]);
  }
}
