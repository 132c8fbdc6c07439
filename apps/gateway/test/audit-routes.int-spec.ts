import { randomBytes, randomUUID } from 'node:crypto';

import type { AuditRecord } from '@vivified/contracts';
import { dynamicSubjects } from '@vivified/contracts';
import { connectNats } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import type { BuiltService, TestDatabase, TestNatsServer } from '@vivified/testing';
import {
  createTestDatabase,
  startBuiltService,
  startNatsServer,
  TestAuthority,
  waitFor,
} from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startGatewayInProcess } from './gateway-in-process';

const RECORDS = 2_500;

/** The gateway's audit routes in this process, the audit service as a built process behind it. */
describe('gateway audit routes', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  let nc: NatsConnection;
  let audit: BuiltService | undefined;
  let gateway: RunningService | undefined;
  let base: string;
  let auditor: string;
  let viewer: string;

  const get = (path: string, token?: string) =>
    fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_gw_audit')]);
    const shared = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_LOG_LEVEL: 'warn',
    };
    ({ nc } = await connectNats({ servers: [nats.url], name: 'gateway-audit-test' }));
    const authority = await TestAuthority.create(nc);
    auditor = await authority.token({
      kind: 'user',
      id: randomUUID(),
      traits: ['compliance_officer', 'audit_viewer', 'viewer'],
    });
    viewer = await authority.token({ kind: 'user', id: randomUUID(), traits: ['viewer'] });

    audit = await startBuiltService('audit', { env: shared, readyTimeoutMs: 60_000 });
    const js = nc.jetstream();
    const records: AuditRecord[] = Array.from({ length: RECORDS }, (_, index) => ({
      id: randomUUID(),
      ts: new Date().toISOString(),
      category: 'auth',
      action: index % 2 === 0 ? 'login' : 'logout',
      outcome: 'success',
      actor: { kind: 'user', id: `user:${randomUUID()}` },
      classification: [],
      phiInvolved: false,
      service: 'identity',
      details: { index },
    }));
    await Promise.all(
      records.map((record) =>
        js.publish(dynamicSubjects.auditRecord(record.category), JSON.stringify(record), {
          msgID: record.id,
        }),
      ),
    );

    ({ gateway, base } = await startGatewayInProcess(shared));
    await waitFor(
      async () => {
        const response = await get('/v1/audit/verify', auditor);
        const body = (await response.json()) as { rowsChecked?: number };

        return response.status === 200 && (body.rowsChecked ?? 0) >= RECORDS;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'records to be stored' },
    );
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await audit?.stop();
    await nc?.drain().catch(() => undefined);
    await Promise.allSettled([nats?.stop(), db?.drop()]);
  });

  it('GET /v1/audit filters and pages', async () => {
    const first = await get('/v1/audit?action=logout&limit=50', auditor);
    expect(first.status).toBe(200);
    const page = (await first.json()) as { records: Array<{ action: string }>; nextCursor?: string };
    expect(page.records).toHaveLength(50);
    expect(page.records.every((record) => record.action === 'logout')).toBe(true);
    const next = await get(`/v1/audit?action=logout&limit=50&cursor=${page.nextCursor ?? ''}`, auditor);
    expect(next.status).toBe(200);
    expect(((await next.json()) as { records: unknown[] }).records).toHaveLength(50);
    expect((await get('/v1/audit?phiInvolved=maybe', auditor)).status).toBe(400);
  });

  it('GET /v1/audit is refused without audit_viewer or credentials', async () => {
    expect((await get('/v1/audit', viewer)).status).toBe(403);
    expect((await get('/v1/audit')).status).toBe(401);
    expect((await get('/v1/audit/export', viewer)).status).toBe(403);
  });

  it('GET /v1/audit/export streams every matching record as NDJSON across pages', async () => {
    const response = await get('/v1/audit/export?category=auth&action=login', auditor);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await response.text()).trim().split('\n');
    expect(lines).toHaveLength(RECORDS / 2);
    const seqs = lines.map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(new Set(seqs).size).toBe(RECORDS / 2);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
  });

  it('GET /v1/audit/verify and GET /v1/compliance/report answer', async () => {
    const verify = await get('/v1/audit/verify?fromSeq=1&toSeq=100', auditor);
    expect(await verify.json()).toMatchObject({ ok: true, fromSeq: 1, toSeq: 100, rowsChecked: 100 });
    const report = await get('/v1/compliance/report', auditor);
    expect(report.status).toBe(200);
    const body = (await report.json()) as { safeguards: Array<{ id: string }> };
    expect(body.safeguards.map((safeguard) => safeguard.id)).toContain('164.312(b)');
  });
});
