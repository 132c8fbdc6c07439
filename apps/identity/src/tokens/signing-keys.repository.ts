import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL, withTransaction } from '@vivified/service-kit';
import type { Pool, PoolClient } from 'pg';

/** The public half of an Ed25519 key as JWK members. */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

/** Lifecycle of a signing key. */
export type SigningKeyStatus = 'current' | 'previous' | 'retired';

/** One row of `signing_keys`. */
export interface SigningKeyRow {
  kid: string;
  publicJwk: PublicJwk;
  privateSealed: string;
  createdAt: Date;
  retiresAt: Date | null;
  status: SigningKeyStatus;
}

/** A key to insert. */
export type NewSigningKey = Pick<SigningKeyRow, 'kid' | 'publicJwk' | 'privateSealed' | 'createdAt'>;

interface DbRow {
  kid: string;
  public_jwk: PublicJwk;
  private_sealed: string;
  created_at: Date;
  retires_at: Date | null;
  status: SigningKeyStatus;
}

const COLUMNS = 'kid, public_jwk, private_sealed, created_at, retires_at, status';

const toRow = (row: DbRow): SigningKeyRow => ({
  kid: row.kid,
  publicJwk: row.public_jwk,
  privateSealed: row.private_sealed,
  createdAt: row.created_at,
  retiresAt: row.retires_at,
  status: row.status,
});

/** Serializes key changes across replicas for the length of a transaction. */
const KEY_LOCK = "SELECT pg_advisory_xact_lock(hashtext('vivified.identity.signing-keys'))";

/** Key changes made while holding the signing-key lock. */
export interface SigningKeysTx {
  current(): Promise<SigningKeyRow | undefined>;
  insertCurrent(key: NewSigningKey): Promise<void>;
  /** Turns the current key into a previous one that verifies until `retiresAt`. */
  demoteCurrent(retiresAt: Date): Promise<SigningKeyRow | undefined>;
}

@Injectable()
export class SigningKeysRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Runs `work` holding the signing-key advisory lock, so replicas starting or rotating together agree. */
  locked<T>(work: (tx: SigningKeysTx) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, async (client) => {
      await client.query(KEY_LOCK);

      return work(this.tx(client));
    });
  }

  async current(): Promise<SigningKeyRow | undefined> {
    const { rows } = await this.pool.query<DbRow>(
      `SELECT ${COLUMNS} FROM signing_keys WHERE status = 'current'`,
    );

    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async find(kid: string): Promise<SigningKeyRow | undefined> {
    const { rows } = await this.pool.query<DbRow>(`SELECT ${COLUMNS} FROM signing_keys WHERE kid = $1`, [
      kid,
    ]);

    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Keys that still verify at `now`: the current one and previous ones not yet retired. */
  async verifying(now: Date): Promise<SigningKeyRow[]> {
    const { rows } = await this.pool.query<DbRow>(
      `SELECT ${COLUMNS} FROM signing_keys
        WHERE status = 'current' OR (status = 'previous' AND retires_at > $1)
        ORDER BY created_at DESC`,
      [now],
    );

    return rows.map(toRow);
  }

  /** Marks previous keys whose time has come as retired; answers the kid of every key retired by now. */
  async retireDue(now: Date): Promise<string[]> {
    await this.pool.query(
      `UPDATE signing_keys SET status = 'retired' WHERE status = 'previous' AND retires_at <= $1`,
      [now],
    );
    const { rows } = await this.pool.query<{ kid: string }>(
      `SELECT kid FROM signing_keys WHERE status = 'retired'`,
    );

    return rows.map((row) => row.kid);
  }

  private tx(client: PoolClient): SigningKeysTx {
    return {
      current: async () => {
        const { rows } = await client.query<DbRow>(
          `SELECT ${COLUMNS} FROM signing_keys WHERE status = 'current'`,
        );

        return rows[0] ? toRow(rows[0]) : undefined;
      },
      insertCurrent: async (key) => {
        await client.query(
          `INSERT INTO signing_keys (kid, public_jwk, private_sealed, created_at, status)
           VALUES ($1, $2, $3, $4, 'current')`,
          [key.kid, JSON.stringify(key.publicJwk), key.privateSealed, key.createdAt],
        );
      },
      demoteCurrent: async (retiresAt) => {
        const { rows } = await client.query<DbRow>(
          `UPDATE signing_keys SET status = 'previous', retires_at = $1 WHERE status = 'current'
           RETURNING ${COLUMNS}`,
          [retiresAt],
        );

        return rows[0] ? toRow(rows[0]) : undefined;
      },
    };
  }
}
