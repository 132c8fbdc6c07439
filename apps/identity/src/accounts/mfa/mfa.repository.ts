import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL, withTransaction } from '@vivified/service-kit';
import type { Pool, PoolClient } from 'pg';

/** A user's TOTP row. */
export interface TotpRecord {
  /** Sealed secret once enabled. */
  secretSealed: string | null;
  enabledAt: Date | null;
  /** Sealed secret of a setup not yet confirmed. */
  pendingSealed: string | null;
  /** Highest time step accepted. */
  lastStep: number | null;
}

/** What an MFA reset removed. */
export interface MfaRemoved {
  totpRemoved: boolean;
  backupCodesRemoved: number;
  passkeysRemoved: number;
}

/** TOTP secrets and backup codes. */
@Injectable()
export class MfaRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async totp(userId: string): Promise<TotpRecord | undefined> {
    const { rows } = await this.pool.query<{
      secret_sealed: string | null;
      enabled_at: Date | null;
      pending_secret_sealed: string | null;
      last_step: string | null;
    }>(
      'SELECT secret_sealed, enabled_at, pending_secret_sealed, last_step FROM user_totp WHERE user_id = $1',
      [userId],
    );
    const row = rows[0];

    return row
      ? {
          secretSealed: row.secret_sealed,
          enabledAt: row.enabled_at,
          pendingSealed: row.pending_secret_sealed,
          lastStep: row.last_step === null ? null : Number(row.last_step),
        }
      : undefined;
  }

  /** Stores a pending secret (replacing an earlier one); answers false when TOTP is already enabled. */
  async setPending(userId: string, sealed: string, at: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO user_totp AS t (user_id, pending_secret_sealed, pending_created_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET pending_secret_sealed = $2, pending_created_at = $3
        WHERE t.secret_sealed IS NULL`,
      [userId, sealed, at],
    );

    return rowCount === 1;
  }

  /**
   * Turns the pending secret `pendingSealed` into the enabled one, records `step` as used and replaces the backup
   * codes, in one transaction. Answers false when the pending secret changed meanwhile or TOTP is already on.
   */
  async enable(
    userId: string,
    pendingSealed: string,
    step: number,
    backupCodeHashes: string[],
    at: Date,
  ): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE user_totp
            SET secret_sealed = pending_secret_sealed, enabled_at = $4, last_step = $3,
                pending_secret_sealed = NULL, pending_created_at = NULL
          WHERE user_id = $1 AND secret_sealed IS NULL AND pending_secret_sealed = $2
            AND (last_step IS NULL OR last_step < $3)`,
        [userId, pendingSealed, step, at],
      );
      if (rowCount !== 1) {
        return false;
      }
      await this.writeBackupCodes(client, userId, backupCodeHashes);

      return true;
    });
  }

  /** Records `step` as used unless it or a later one already was: the atomic half of "a code is good once". */
  async acceptStep(userId: string, step: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE user_totp SET last_step = $2
        WHERE user_id = $1 AND secret_sealed IS NOT NULL AND (last_step IS NULL OR last_step < $2)`,
      [userId, step],
    );

    return rowCount === 1;
  }

  /** Removes TOTP and the backup codes; answers whether TOTP was enabled. */
  async disable(userId: string): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        'DELETE FROM user_totp WHERE user_id = $1 AND secret_sealed IS NOT NULL',
        [userId],
      );
      await client.query('DELETE FROM backup_codes WHERE user_id = $1', [userId]);

      return rowCount === 1;
    });
  }

  /**
   * An admin's MFA reset, in one transaction: removes the user's TOTP (enabled or pending) and backup codes and,
   * with `passkeys`, every passkey. Answers what was removed.
   */
  async reset(userId: string, passkeys: boolean): Promise<MfaRemoved> {
    return withTransaction(this.pool, async (client) => {
      const totp = await client.query('DELETE FROM user_totp WHERE user_id = $1', [userId]);
      const codes = await client.query('DELETE FROM backup_codes WHERE user_id = $1', [userId]);
      const keys = passkeys
        ? await client.query('DELETE FROM webauthn_credentials WHERE user_id = $1', [userId])
        : undefined;

      return {
        totpRemoved: (totp.rowCount ?? 0) > 0,
        backupCodesRemoved: codes.rowCount ?? 0,
        passkeysRemoved: keys?.rowCount ?? 0,
      };
    });
  }

  /** Replaces every backup code of a user. */
  async replaceBackupCodes(userId: string, hashes: string[]): Promise<void> {
    await withTransaction(this.pool, (client) => this.writeBackupCodes(client, userId, hashes));
  }

  /** Marks an unused code as used; answers false when it is unknown or was used before. */
  async consumeBackupCode(userId: string, hash: string, at: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE backup_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
      [userId, hash, at],
    );

    return rowCount === 1;
  }

  private async writeBackupCodes(client: PoolClient, userId: string, hashes: string[]): Promise<void> {
    await client.query('DELETE FROM backup_codes WHERE user_id = $1', [userId]);
    await client.query('INSERT INTO backup_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [
      userId,
      hashes,
    ]);
  }
}
