import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

/** A stored passkey. */
export interface StoredPasskey {
  id: string;
  userId: string;
  /** The authenticator's credential id, base64url. */
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  userHandle: string;
  transports: string[];
  aaguid: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | undefined;
}

/** A passkey to store. */
export type NewPasskey = Omit<StoredPasskey, 'createdAt' | 'lastUsedAt'>;

/** The kind of ceremony a challenge belongs to. */
export type CeremonyKind = 'registration' | 'authentication';

/** A stored ceremony challenge. */
export interface StoredChallenge {
  id: string;
  kind: CeremonyKind;
  /** base64url. */
  challenge: string;
  userId: string | undefined;
  /** Only `userId`'s passkeys may answer it (registration, login with a username). */
  userBound: boolean;
  expiresAt: Date;
}

interface PasskeyRow {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  sign_count: string;
  user_handle: string;
  transports: string[];
  aaguid: string;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  label: string;
  created_at: Date;
  last_used_at: Date | null;
}

interface ChallengeRow {
  id: string;
  kind: CeremonyKind;
  challenge: string;
  user_id: string | null;
  user_bound: boolean;
  expires_at: Date;
}

const PASSKEY_COLUMNS = `id, user_id, credential_id, public_key, sign_count, user_handle, transports, aaguid, device_type,
  backed_up, label, created_at, last_used_at`;

function toPasskey(row: PasskeyRow): StoredPasskey {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: new Uint8Array(row.public_key),
    signCount: Number(row.sign_count),
    userHandle: row.user_handle,
    transports: row.transports,
    aaguid: row.aaguid,
    deviceType: row.device_type,
    backedUp: row.backed_up,
    label: row.label,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at ?? undefined,
  };
}

/** Thrown by {@link WebauthnRepository.insertPasskey} when the credential id is already registered. */
export class DuplicatePasskeyError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('credential id already registered', options);
    this.name = 'DuplicatePasskeyError';
  }
}

/** Passkeys and ceremony challenges in identity's schema. */
@Injectable()
export class WebauthnRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async listByUser(userId: string): Promise<StoredPasskey[]> {
    const { rows } = await this.pool.query<PasskeyRow>(
      `SELECT ${PASSKEY_COLUMNS} FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );

    return rows.map(toPasskey);
  }

  async findByCredentialId(credentialId: string): Promise<StoredPasskey | undefined> {
    const { rows } = await this.pool.query<PasskeyRow>(
      `SELECT ${PASSKEY_COLUMNS} FROM webauthn_credentials WHERE credential_id = $1`,
      [credentialId],
    );

    return rows[0] ? toPasskey(rows[0]) : undefined;
  }

  async insertPasskey(passkey: NewPasskey, now: Date): Promise<StoredPasskey> {
    try {
      const { rows } = await this.pool.query<PasskeyRow>(
        `INSERT INTO webauthn_credentials (id, user_id, credential_id, public_key, sign_count, user_handle, transports,
           aaguid, device_type, backed_up, label, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING ${PASSKEY_COLUMNS}`,
        [
          passkey.id,
          passkey.userId,
          passkey.credentialId,
          Buffer.from(passkey.publicKey),
          passkey.signCount,
          passkey.userHandle,
          passkey.transports,
          passkey.aaguid,
          passkey.deviceType,
          passkey.backedUp,
          passkey.label,
          now,
        ],
      );

      return toPasskey(rows[0]);
    } catch (error) {
      if ((error as { code?: unknown }).code === '23505') {
        throw new DuplicatePasskeyError({ cause: error });
      }
      throw error;
    }
  }

  /**
   * Records a login: stores the new counter only when it moves forward (or both are 0, an authenticator that does
   * not count). One conditional UPDATE, so of two concurrent assertions with the same counter only one passes.
   * Answers `accepted`, and the counter stored now when refused; undefined when the passkey is gone.
   */
  async advanceCounter(
    id: string,
    newCount: number,
    now: Date,
  ): Promise<{ accepted: true } | { accepted: false; stored: number } | undefined> {
    const moved = await this.pool.query(
      `UPDATE webauthn_credentials SET sign_count = $2, last_used_at = $3
       WHERE id = $1 AND ($2 > sign_count OR ($2 = 0 AND sign_count = 0))`,
      [id, newCount, now],
    );
    if ((moved.rowCount ?? 0) > 0) {
      return { accepted: true };
    }
    const { rows } = await this.pool.query<{ sign_count: string }>(
      'SELECT sign_count FROM webauthn_credentials WHERE id = $1',
      [id],
    );

    return rows[0] ? { accepted: false, stored: Number(rows[0].sign_count) } : undefined;
  }

  /** Deletes one of a user's passkeys; answers whether it existed. */
  async deletePasskey(userId: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2',
      [id, userId],
    );

    return (rowCount ?? 0) > 0;
  }

  /** Stores a ceremony challenge, dropping those that expired on the way. */
  async saveChallenge(challenge: StoredChallenge, now: Date): Promise<void> {
    await this.pool.query('DELETE FROM webauthn_challenges WHERE expires_at < $1', [now]);
    await this.pool.query(
      `INSERT INTO webauthn_challenges (id, kind, challenge, user_id, user_bound, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        challenge.id,
        challenge.kind,
        challenge.challenge,
        challenge.userId ?? null,
        challenge.userBound,
        challenge.expiresAt,
        now,
      ],
    );
  }

  /**
   * Takes a challenge out of the store: the row is deleted in the same statement that reads it, so a ceremony id
   * answers one attempt only, whatever its outcome (an expired row is consumed too, and reported as such).
   */
  async consumeChallenge(id: string, kind: CeremonyKind): Promise<StoredChallenge | undefined> {
    const { rows } = await this.pool.query<ChallengeRow>(
      `DELETE FROM webauthn_challenges WHERE id = $1 AND kind = $2
       RETURNING id, kind, challenge, user_id, user_bound, expires_at`,
      [id, kind],
    );
    const row = rows[0];

    return row
      ? {
          id: row.id,
          kind: row.kind,
          challenge: row.challenge,
          userId: row.user_id ?? undefined,
          userBound: row.user_bound,
          expiresAt: row.expires_at,
        }
      : undefined;
  }

  /** The deployment's decoy-id key; `candidate` becomes it when there is none yet (first caller wins). */
  async decoyKey(candidate: Uint8Array): Promise<Uint8Array> {
    await this.pool.query('INSERT INTO webauthn_decoy_key (key) VALUES ($1) ON CONFLICT DO NOTHING', [
      Buffer.from(candidate),
    ]);
    const { rows } = await this.pool.query<{ key: Buffer }>('SELECT key FROM webauthn_decoy_key');

    return new Uint8Array(rows[0].key);
  }
}
