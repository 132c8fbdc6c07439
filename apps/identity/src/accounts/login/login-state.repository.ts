import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL, withTransaction } from '@vivified/service-kit';
import type { Pool } from 'pg';

import type { LoginState } from './lockout';
import { cleanLoginState } from './lockout';
import type { ThrottleWindow } from './throttle';

interface StateRow {
  failed_attempts: number;
  lockouts: number;
  locked_until: Date | null;
  last_failure_at: Date | null;
}

const toMs = (date: Date | null): number | null => (date === null ? null : date.getTime());
const toDate = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/** Lockout state per user and failure windows per client address; replicas share both through PostgreSQL. */
@Injectable()
export class LoginStateRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async read(userId: string): Promise<LoginState> {
    const { rows } = await this.pool.query<StateRow>(
      'SELECT failed_attempts, lockouts, locked_until, last_failure_at FROM user_login_state WHERE user_id = $1',
      [userId],
    );
    const row = rows[0];

    return row
      ? {
          failedAttempts: row.failed_attempts,
          lockouts: row.lockouts,
          lockedUntil: toMs(row.locked_until),
          lastFailureAt: toMs(row.last_failure_at),
        }
      : { ...cleanLoginState };
  }

  /**
   * Reads a user's state under a row lock, applies `change` and writes the result, in one transaction: concurrent
   * failures on several replicas are all counted. Answers what `change` answered.
   */
  async change<T>(
    userId: string,
    change: (state: LoginState) => { state: LoginState; result: T },
  ): Promise<T> {
    return withTransaction(this.pool, async (client) => {
      await client.query('INSERT INTO user_login_state (user_id) VALUES ($1) ON CONFLICT DO NOTHING', [
        userId,
      ]);
      const { rows } = await client.query<StateRow>(
        `SELECT failed_attempts, lockouts, locked_until, last_failure_at
           FROM user_login_state WHERE user_id = $1 FOR UPDATE`,
        [userId],
      );
      const row = rows[0] ?? {
        failed_attempts: 0,
        lockouts: 0,
        locked_until: null,
        last_failure_at: null,
      };
      const { state, result } = change({
        failedAttempts: row.failed_attempts,
        lockouts: row.lockouts,
        lockedUntil: toMs(row.locked_until),
        lastFailureAt: toMs(row.last_failure_at),
      });
      await client.query(
        `UPDATE user_login_state
            SET failed_attempts = $2, lockouts = $3, locked_until = $4, last_failure_at = $5
          WHERE user_id = $1`,
        [
          userId,
          state.failedAttempts,
          state.lockouts,
          toDate(state.lockedUntil),
          toDate(state.lastFailureAt),
        ],
      );

      return result;
    });
  }

  /** Forgets failures, lockouts and any lock (a successful login, an admin's unlock). */
  async clear(userId: string): Promise<void> {
    await this.pool.query('DELETE FROM user_login_state WHERE user_id = $1', [userId]);
  }

  async throttleWindow(ipHash: string): Promise<ThrottleWindow | undefined> {
    const { rows } = await this.pool.query<{ window_start: Date; failures: number }>(
      'SELECT window_start, failures FROM login_throttle WHERE ip_hash = $1',
      [ipHash],
    );
    const row = rows[0];

    return row ? { windowStart: row.window_start.getTime(), failures: row.failures } : undefined;
  }

  /** Counts one failure of an address in its window, opening a new window when the old one has ended. */
  async recordIpFailure(ipHash: string, now: number, windowMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO login_throttle AS t (ip_hash, window_start, failures) VALUES ($1, $2, 1)
       ON CONFLICT (ip_hash) DO UPDATE SET
         failures = CASE WHEN t.window_start <= $3 THEN 1 ELSE t.failures + 1 END,
         window_start = CASE WHEN t.window_start <= $3 THEN $2 ELSE t.window_start END`,
      [ipHash, new Date(now), new Date(now - windowMs)],
    );
  }

  /** Deletes windows that ended before `before`; answers how many. */
  async purgeThrottle(before: number): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM login_throttle WHERE window_start < $1', [
      new Date(before),
    ]);

    return rowCount ?? 0;
  }
}
