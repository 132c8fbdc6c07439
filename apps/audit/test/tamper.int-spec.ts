import { generateKeyPairSync, sign } from 'node:crypto';

import type { AuditVerifyReply } from '@vivified/contracts';
import { subjects } from '@vivified/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { rowHash } from '../src/chain/chain-hash';
import { checkpointPayload } from '../src/chain/checkpoint-signer';
import { runCli } from '../src/cli';
import type { StoredRow } from '../src/store/audit.repository';
import { AuditRepository } from '../src/store/audit.repository';
import { AuditHarness, auditRecord, traits } from './harness';

const ROWS = 500;

describe('audit chain tamper detection', () => {
  let harness: AuditHarness;
  let auditor: string;

  const verify = (range: { fromSeq?: number; toSeq?: number } = {}): Promise<AuditVerifyReply> =>
    harness.client.request(subjects.audit.records.verify, range, { token: auditor });

  /** Runs SQL as the superuser with triggers off, as an attacker with database access could. */
  async function tamper(sql: string, params: unknown[] = []): Promise<void> {
    await harness.sql.query('SET session_replication_role = replica');
    try {
      await harness.sql.query(sql, params);
    } finally {
      await harness.sql.query('SET session_replication_role = DEFAULT');
    }
  }

  async function rowAt(seq: number): Promise<Record<string, unknown>> {
    const { rows } = await harness.sql.query<Record<string, unknown>>(
      'SELECT * FROM records WHERE seq = $1',
      [seq],
    );

    return rows[0];
  }

  async function reinsert(row: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(row);
    await tamper(
      `INSERT INTO records (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      columns.map((column) => (column === 'details' ? JSON.stringify(row[column]) : row[column])),
    );
  }

  beforeAll(async () => {
    harness = await AuditHarness.start({
      VIVIFIED_AUDIT_CHECKPOINT_RECORDS: '100',
      VIVIFIED_AUDIT_BATCH_SIZE: '100',
    });
    auditor = await harness.token(traits.auditor);
    await harness.publish(Array.from({ length: ROWS }, (_, index) => auditRecord({ details: { index } })));
    await harness.waitForRows(ROWS);
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('verifies an intact chain and its signed checkpoints, over all of it and over a range', async () => {
    const all = await verify();
    expect(all).toMatchObject({ ok: true, fromSeq: 1, rowsChecked: ROWS });
    expect(all.checkpointsChecked).toBeGreaterThanOrEqual(5);
    expect(await verify({ fromSeq: 120, toSeq: 180 })).toMatchObject({ ok: true, rowsChecked: 61 });
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    await expect(harness.sql.query("UPDATE records SET outcome = 'failure' WHERE seq = 1")).rejects.toThrow(
      /append-only/,
    );
    await expect(harness.sql.query('DELETE FROM records WHERE seq = 1')).rejects.toThrow(/append-only/);
    const { rows } = await harness.sql.query<{ name: string }>(
      "SELECT relname AS name FROM pg_class WHERE relname LIKE 'records_y%' AND relkind = 'r' LIMIT 1",
    );
    await expect(harness.sql.query(`TRUNCATE ${rows[0]?.name ?? 'x'}`)).rejects.toThrow(/append-only/);
    await expect(harness.sql.query('DELETE FROM checkpoints')).rejects.toThrow(/append-only/);
  });

  it('names an edited row', async () => {
    await tamper("UPDATE records SET outcome = 'failure' WHERE seq = 50");
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.firstBrokenRow).toMatchObject({ seq: 50, reason: 'hash_mismatch' });
    await tamper("UPDATE records SET outcome = 'success' WHERE seq = 50");
    expect((await verify()).ok).toBe(true);
  });

  it('names the row after a deleted one', async () => {
    const saved = await rowAt(60);
    await tamper('DELETE FROM records WHERE seq = 60');
    const result = await verify();
    expect(result.firstBrokenRow?.seq).toBe(61);
    expect(result.firstBrokenRow?.reason).toMatch(/^seq_gap/);
    await reinsert(saved);
    expect((await verify()).ok).toBe(true);
  });

  it('names an inserted row', async () => {
    const original = await rowAt(70);
    // (seq, stored_at) is the key: a second row at seq 70 needs another stored_at
    const copy = {
      ...original,
      id: '00000000-0000-4000-8000-000000000070',
      stored_at: new Date((original['stored_at'] as Date).getTime() + 1),
    };
    await reinsert(copy);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.firstBrokenRow?.seq).toBe(70);
    await tamper('DELETE FROM records WHERE id = $1', [copy.id]);
    expect((await verify()).ok).toBe(true);
  });

  it('names reordered rows', async () => {
    await tamper('UPDATE records SET seq = -1 WHERE seq = 80');
    await tamper('UPDATE records SET seq = 80 WHERE seq = 81');
    await tamper('UPDATE records SET seq = 81 WHERE seq = -1');
    const result = await verify();
    expect(result.firstBrokenRow?.seq).toBe(80);
    expect(result.firstBrokenRow?.reason).toMatch(/hash_mismatch/);
    await tamper('UPDATE records SET seq = -1 WHERE seq = 80');
    await tamper('UPDATE records SET seq = 80 WHERE seq = 81');
    await tamper('UPDATE records SET seq = 81 WHERE seq = -1');
    expect((await verify()).ok).toBe(true);
  });

  it('refuses a forged checkpoint', async () => {
    const { rows } = await harness.sql.query<{ n: string; signature: string; key_id: string }>(
      'SELECT n, signature, key_id FROM checkpoints ORDER BY n DESC LIMIT 1',
    );
    const last = rows[0];
    const forger = generateKeyPairSync('ed25519');
    const draft = {
      n: Number(last?.n) + 1,
      seqTo: ROWS,
      headHash: 'f'.repeat(64),
      prevSignature: last?.signature ?? '',
      dropped: [],
      keyId: last?.key_id ?? '',
      createdAt: new Date().toISOString(),
    };
    const signature = sign(null, Buffer.from(checkpointPayload(draft)), forger.privateKey).toString('base64');
    await harness.sql.query(
      `INSERT INTO checkpoints (n, seq_to, head_hash, prev_signature, dropped, key_id, created_at, signature)
       VALUES ($1, $2, $3, $4, '[]', $5, $6, $7)`,
      [draft.n, draft.seqTo, draft.headHash, draft.prevSignature, draft.keyId, draft.createdAt, signature],
    );
    const result = await verify();
    expect(result.firstBrokenCheckpoint).toMatchObject({ seq: draft.n, reason: 'signature_invalid' });
    await tamper('DELETE FROM checkpoints WHERE n = $1', [draft.n]);
    expect((await verify()).ok).toBe(true);
  });

  it('the CLI verifies straight in PostgreSQL and names the first broken row', async () => {
    const lines: string[] = [];
    const io = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
    const environment = { VIVIFIED_DATABASE_URL: harness.db.url };
    expect(await runCli(['verify', '--from', '10', '--to', '400'], environment, io)).toBe(0);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ ok: true, fromSeq: 10, toSeq: 400 });
    await tamper("UPDATE records SET action = 'logout' WHERE seq = 333");
    lines.length = 0;
    expect(await runCli(['verify'], environment, io)).toBe(1);
    expect(lines.join('\n')).toContain('first broken row: seq 333 (hash_mismatch)');
    expect(await runCli(['nonsense'], environment, io)).toBe(2);
    await tamper("UPDATE records SET action = 'login' WHERE seq = 333");
  });

  it('catches a chain recomputed consistently after a checkpoint (the checkpoint no longer matches)', async () => {
    const repository = new AuditRepository(harness.replicas[0].app.get(AuditRepository)['pool']);
    const rows: StoredRow[] = await repository.rowsInOrder(249, ROWS, ROWS);
    let prev = rows[0]?.prevHash ?? '';
    await harness.sql.query('BEGIN');
    await harness.sql.query('SET LOCAL session_replication_role = replica');
    for (const row of rows) {
      const { prevHash: _p, hash: _h, ...fields } = row;
      const changed = row.seq === 250 ? { ...fields, outcome: 'denied' } : fields;
      const hash = rowHash(changed, prev);
      await harness.sql.query('UPDATE records SET outcome = $1, prev_hash = $2, hash = $3 WHERE seq = $4', [
        changed.outcome,
        prev,
        hash,
        row.seq,
      ]);
      prev = hash;
    }
    await harness.sql.query('COMMIT');
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.firstBrokenCheckpoint?.reason).toBe('checkpoint_mismatch');
    expect(result.firstBrokenRow).toMatchObject({ seq: 201, reason: 'chain_rewritten_after_checkpoint' });
  });
});
