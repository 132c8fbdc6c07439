import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { dynamicSubjects, opsPortEnv, streams } from '@vivified/contracts';
import { connectNats, ensureStream } from '@vivified/nats-transport';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, freePort, startNatsServer, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AuditRepository } from '../src/store/audit.repository';
import { verifyChain } from '../src/verify/chain-verifier';
import { auditRecord } from './harness';

const root = join(__dirname, '..', '..', '..');
const RECORDS = 50_000;

/** The built audit service killed with SIGKILL mid-stream: every record ends up stored once, the chain intact. */
describe('audit service killed while records stream in', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  let nc: NatsConnection;
  let pool: Pool;
  let child: ChildProcess | undefined;
  const env: Record<string, string> = {};

  async function startAudit(): Promise<ChildProcess> {
    const main = join(root, 'apps', 'audit', 'dist', 'main.js');
    if (!existsSync(main)) {
      throw new Error(`${main} is missing: run npm run build first (npm test does)`);
    }
    const opsPort = await freePort();
    const started = spawn(process.execPath, [main], {
      cwd: root,
      env: { PATH: process.env['PATH'], ...env, [opsPortEnv('audit')]: String(opsPort) },
      stdio: 'ignore',
    });
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${opsPort}/health/ready`).catch(() => undefined))?.ok === true,
      { timeoutMs: 60_000, what: 'audit to be ready' },
    );

    return started;
  }

  async function stored(): Promise<number> {
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM audit.records');

    return Number(rows[0]?.n ?? 0);
  }

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_audit_crash')]);
    Object.assign(env, {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_LOG_LEVEL: 'silent',
      VIVIFIED_AUDIT_CHECKPOINT_RECORDS: '5000',
      OTEL_SDK_DISABLED: 'true',
    });
    ({ nc } = await connectNats({ servers: [nats.url], name: 'audit-crash-test' }));
    await ensureStream(await nc.jetstreamManager(), streams.audit);
    pool = new Pool({ connectionString: db.url, max: 2 });
    // the database is dropped WITH (FORCE) at the end: a client still closing is told so
    pool.on('error', () => undefined);
  }, 60_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await pool?.end().catch(() => undefined);
    await nc?.drain().catch(() => undefined);
    await Promise.allSettled([nats?.stop(), db?.drop()]);
  });

  it('finds every record exactly once with an intact chain after kill -9 and a restart', async () => {
    child = await startAudit();
    const js = nc.jetstream();
    const ids: string[] = [];
    let killed = false;
    for (let start = 0; start < RECORDS; start += 1_000) {
      const batch = Array.from({ length: 1_000 }, (_, index) =>
        auditRecord({ details: { n: start + index } }),
      );
      ids.push(...batch.map((record) => record.id));
      await Promise.all(
        batch.map((record) =>
          js.publish(dynamicSubjects.auditRecord(record.category), JSON.stringify(record), {
            msgID: record.id,
          }),
        ),
      );
      if (!killed && (await stored()) > 2_000) {
        // mid-batch, mid-transaction as likely as not
        child.kill('SIGKILL');
        killed = true;
      }
    }
    if (!killed) {
      child.kill('SIGKILL');
      killed = true;
    }
    const before = await stored();
    expect(before).toBeLessThan(RECORDS);
    child = await startAudit();
    await waitFor(async () => (await stored()) >= RECORDS, { timeoutMs: 240_000, intervalMs: 500 });
    // nothing more arrives: redeliveries of what was stored before the kill are no-ops
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const { rows } = await pool.query<{ n: string; ids: string; max: string }>(
      'SELECT count(*) AS n, count(DISTINCT id) AS ids, max(seq) AS max FROM audit.records',
    );
    expect(rows[0]).toEqual({ n: String(RECORDS), ids: String(RECORDS), max: String(RECORDS) });
    const missing = await pool.query<{ id: string }>(
      'SELECT unnest($1::uuid[]) AS id EXCEPT SELECT id FROM audit.records',
      [ids],
    );
    expect(missing.rows).toEqual([]);
    const reader = new Pool({ connectionString: db.url, max: 2, options: '-c search_path=audit,public' });
    try {
      const verdict = await verifyChain(new AuditRepository(reader));
      expect(verdict).toMatchObject({ ok: true, fromSeq: 1, toSeq: RECORDS, rowsChecked: RECORDS });
    } finally {
      await reader.end();
    }
  }, 400_000);
});
