import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL, withTransaction } from '@vivified/service-kit';
import type { Pool, PoolClient } from 'pg';

/** A session to open. */
export interface NewSession {
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  method: string;
  ip?: string;
  userAgent?: string;
}

/** A refresh token and its session, locked for the transaction. */
export interface LockedRefreshToken {
  sessionId: string;
  userId: string;
  /** How the session was opened (`SessionContext['method']`); its access tokens carry it as `amr`. */
  method: string;
  usedAt: Date | null;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

/** What a refresh does inside its transaction. */
export interface RefreshTx {
  /** The token and its session, both rows locked (`FOR UPDATE`); undefined when no token has this hash. */
  lock(hash: string): Promise<LockedRefreshToken | undefined>;
  /** Marks the old token used, stores the new one and records the use of the session. */
  rotate(oldHash: string, newHash: string, sessionId: string, now: Date): Promise<void>;
  revoke(sessionId: string, reason: string, now: Date): Promise<void>;
}

interface LockedRow {
  session_id: string;
  user_id: string;
  method: string;
  used_at: Date | null;
  last_used_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

@Injectable()
export class SessionsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Inserts a session and its first refresh token in one transaction. */
  open(session: NewSession, refreshHash: string): Promise<void> {
    return withTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, method, ip, user_agent)
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7)`,
        [
          session.id,
          session.userId,
          session.createdAt,
          session.expiresAt,
          session.method,
          session.ip ?? null,
          session.userAgent ?? null,
        ],
      );
      await client.query(`INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)`, [
        refreshHash,
        session.id,
        session.createdAt,
      ]);
    });
  }

  /** The user of the session a refresh token belongs to, read without locking. */
  async userOfToken(hash: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = $1`,
      [hash],
    );

    return rows[0]?.user_id;
  }

  /** Deletes sessions (and their refresh tokens) that ended before `before`; answers how many. */
  async deleteEndedBefore(before: Date): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1 OR last_used_at < $1`,
      [before],
    );

    return rowCount ?? 0;
  }

  /** Runs a refresh in one transaction; the rows `lock` returns stay locked until it ends. */
  refresh<T>(work: (tx: RefreshTx) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, (client) => work(this.refreshTx(client)));
  }

  /** Revokes the session a refresh token (used or not) belongs to; answers its id and user when it was open. */
  async revokeByToken(
    hash: string,
    reason: string,
    now: Date,
  ): Promise<{ sessionId: string; userId: string } | undefined> {
    const { rows } = await this.pool.query<{ id: string; user_id: string }>(
      `UPDATE sessions s SET revoked_at = $2, revoke_reason = $3
         FROM refresh_tokens t
        WHERE t.hash = $1 AND s.id = t.session_id AND s.revoked_at IS NULL
       RETURNING s.id, s.user_id`,
      [hash, now, reason],
    );

    return rows[0] ? { sessionId: rows[0].id, userId: rows[0].user_id } : undefined;
  }

  /** Revokes every open session of a user; answers how many. */
  async revokeAllOfUser(userId: string, reason: string, now: Date): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId, now, reason],
    );

    return rowCount ?? 0;
  }

  private refreshTx(client: PoolClient): RefreshTx {
    return {
      lock: async (hash) => {
        const { rows } = await client.query<LockedRow>(
          `SELECT t.session_id, s.user_id, s.method, t.used_at, s.last_used_at, s.expires_at, s.revoked_at
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
            WHERE t.hash = $1
            FOR UPDATE OF t, s`,
          [hash],
        );
        const row = rows[0];

        return row
          ? {
              sessionId: row.session_id,
              userId: row.user_id,
              method: row.method,
              usedAt: row.used_at,
              lastUsedAt: row.last_used_at,
              expiresAt: row.expires_at,
              revokedAt: row.revoked_at,
            }
          : undefined;
      },
      rotate: async (oldHash, newHash, sessionId, now) => {
        await client.query(`UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1`, [oldHash, now]);
        await client.query(`INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)`, [
          newHash,
          sessionId,
          now,
        ]);
        await client.query(`UPDATE sessions SET last_used_at = $2 WHERE id = $1`, [sessionId, now]);
      },
      revoke: async (sessionId, reason, now) => {
        await client.query(
          `UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL`,
          [sessionId, now, reason],
        );
      },
    };
  }
}
