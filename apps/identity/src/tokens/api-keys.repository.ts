import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

/** One row of `api_keys`, without its hash. */
export interface ApiKeyRow {
  id: string;
  userId: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** A key to insert. */
export type NewApiKey = Pick<ApiKeyRow, 'id' | 'userId' | 'name' | 'scopes' | 'createdAt' | 'expiresAt'> & {
  keyHash: string;
};

interface DbRow {
  id: string;
  user_id: string;
  name: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = 'id, user_id, name, scopes, created_at, expires_at, revoked_at, last_used_at';

const toRow = (row: DbRow): ApiKeyRow => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  scopes: row.scopes,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
  lastUsedAt: row.last_used_at,
});

@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async insert(key: NewApiKey): Promise<void> {
    await this.pool.query(
      `INSERT INTO api_keys (id, user_id, name, key_hash, scopes, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [key.id, key.userId, key.name, key.keyHash, key.scopes, key.createdAt, key.expiresAt],
    );
  }

  /** How many keys of a user still work at `now`. */
  async countUsable(userId: string, now: Date): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>(
      `SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2`,
      [userId, now],
    );

    return Number(rows[0]?.count ?? 0);
  }

  async listOfUser(userId: string): Promise<ApiKeyRow[]> {
    const { rows } = await this.pool.query<DbRow>(
      `SELECT ${COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id`,
      [userId],
    );

    return rows.map(toRow);
  }

  async findByHash(keyHash: string): Promise<ApiKeyRow | undefined> {
    const { rows } = await this.pool.query<DbRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`, [
      keyHash,
    ]);

    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Revokes a key of this user; answers the key when it exists for the user (revoked now or before). */
  async revoke(id: string, userId: string, now: Date): Promise<ApiKeyRow | undefined> {
    const { rows } = await this.pool.query<DbRow>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND user_id = $2
       RETURNING ${COLUMNS}`,
      [id, userId, now],
    );

    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async touch(id: string, now: Date): Promise<void> {
    await this.pool.query(`UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, [id, now]);
  }
}
