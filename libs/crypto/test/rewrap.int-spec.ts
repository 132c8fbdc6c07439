import { randomBytes } from 'node:crypto';

import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestDatabase } from '@vivified/testing';
import { createTestDatabase } from '@vivified/testing';

import { EnvelopeCipher, StaticKekProvider, rewrapAll } from '../src';
import type { RewrapRow, RewrapSource } from '../src';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');

/** A RewrapSource over a real table, paged by uuid with keyset pagination. */
class SecretsTable implements RewrapSource {
  saves = 0;

  constructor(private readonly client: Client) {}

  async rows(afterId: string | undefined, limit: number): Promise<RewrapRow[]> {
    const result = await this.client.query<RewrapRow>(
      `SELECT id::text AS id, sealed, aad FROM secrets
        WHERE $1::uuid IS NULL OR id > $1::uuid
        ORDER BY id LIMIT $2`,
      [afterId ?? null, limit],
    );

    return result.rows;
  }

  async save(id: string, sealed: string): Promise<void> {
    this.saves += 1;
    await this.client.query('UPDATE secrets SET sealed = $2 WHERE id = $1::uuid', [id, sealed]);
  }
}

describe('rewrapAll (PostgreSQL)', () => {
  let db: TestDatabase;
  let client: Client;
  const v1 = new EnvelopeCipher(new StaticKekProvider(`v1:${k1}`));
  const v2 = new EnvelopeCipher(new StaticKekProvider(`v1:${k1},v2:${k2}`));

  beforeAll(async () => {
    db = await createTestDatabase('vivified_crypto');
    client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query(
      `CREATE TABLE secrets (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), aad text NOT NULL UNIQUE,
        sealed text NOT NULL, plain text NOT NULL)`,
    );
    for (let i = 0; i < 57; i += 1) {
      // Every fifth row was written after the rotation and is already current.
      const cipher = i % 5 === 0 ? v2 : v1;
      const aad = `test.secret:${i}`;
      await client.query('INSERT INTO secrets (aad, sealed, plain) VALUES ($1, $2, $3)', [
        aad,
        await cipher.encrypt(`secret number ${i}`, aad),
        `secret number ${i}`,
      ]);
    }
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('moves every row to the current KEK in pages, data segments untouched, and is idempotent', async () => {
    const before = await client.query<{ id: string; data: string }>(
      `SELECT id::text AS id, split_part(sealed, '.', 5) || '.' || split_part(sealed, '.', 6) AS data FROM secrets`,
    );
    const counts = await client.query<{ version: string; n: string }>(
      `SELECT split_part(sealed, '.', 2) AS version, count(*) AS n FROM secrets GROUP BY 1 ORDER BY 1`,
    );
    expect(counts.rows).toEqual([
      { version: 'v1', n: '45' },
      { version: 'v2', n: '12' },
    ]);

    const table = new SecretsTable(client);
    expect(await rewrapAll(v2, table, { batchSize: 10 })).toEqual({ scanned: 57, rewrapped: 45, failed: [] });
    expect(table.saves).toBe(45);

    const after = await client.query<{ id: string; sealed: string; aad: string; plain: string }>(
      'SELECT id::text AS id, sealed, aad, plain FROM secrets',
    );
    const dataBefore = new Map(before.rows.map((row) => [row.id, row.data]));
    for (const row of after.rows) {
      expect(v2.kekVersionOf(row.sealed)).toBe('v2');
      expect(row.sealed.split('.').slice(4).join('.')).toBe(dataBefore.get(row.id));
      expect(await v2.decryptString(row.sealed, row.aad)).toBe(row.plain);
    }
    // Only v2 is needed from now on.
    const v2Only = new EnvelopeCipher(new StaticKekProvider(`v2:${k2}`));
    expect(await v2Only.decryptString(after.rows[0].sealed, after.rows[0].aad)).toBe(after.rows[0].plain);

    const again = new SecretsTable(client);
    expect(await rewrapAll(v2, again, { batchSize: 7 })).toEqual({ scanned: 57, rewrapped: 0, failed: [] });
    expect(again.saves).toBe(0);
  });

  it('a ciphertext copied to another row fails to decrypt there', async () => {
    const rows = await client.query<{ id: string; sealed: string; aad: string }>(
      'SELECT id::text AS id, sealed, aad FROM secrets ORDER BY aad LIMIT 2',
    );
    const [a, b] = rows.rows;
    await client.query('UPDATE secrets SET sealed = $2 WHERE id = $1::uuid', [b.id, a.sealed]);
    await expect(v2.decrypt(a.sealed, b.aad)).rejects.toMatchObject({ code: 'decrypt_failed' });
    const result = await rewrapAll(v2, new SecretsTable(client), { batchSize: 10, skipFailures: true });
    expect(result.failed).toEqual([b.id]);
  });
});
