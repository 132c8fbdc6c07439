import { randomUUID } from 'node:crypto';

import { subjects, VivifiedError } from '@vivified/contracts';
import type { ServiceMetrics } from '@vivified/service-kit';
import { METRICS } from '@vivified/service-kit';
import { waitFor } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { VerifyService } from '../src/verify/verify.service';
import { AuditHarness, auditRecord, traits } from './harness';

describe('audit ingest, query and gate', () => {
  let harness: AuditHarness;
  let auditor: string;

  beforeAll(async () => {
    harness = await AuditHarness.start();
    auditor = await harness.token(traits.auditor);
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('stores each record once even when it is delivered twice, in one intact chain', async () => {
    const records = Array.from({ length: 300 }, (_, index) => auditRecord({ details: { index } }));
    // without Nats-Msg-Id the stream keeps both copies: the consumer sees every record twice
    await harness.publish(records, { dedup: false });
    await harness.publish(records.slice(0, 100), { dedup: false });
    await harness.waitForRows(300);
    expect(await harness.count()).toBe(300);
    const { rows } = await harness.sql.query<{ n: string; ids: string }>(
      'SELECT count(DISTINCT id) AS ids, max(seq) AS n FROM records',
    );
    expect(Number(rows[0]?.ids)).toBe(300);
    expect(Number(rows[0]?.n)).toBe(300);
    const verdict = await harness.client.request(subjects.audit.records.verify, {}, { token: auditor });
    expect(verdict).toMatchObject({ ok: true, fromSeq: 1, toSeq: 300, rowsChecked: 300 });
  });

  it('stores awkward text exactly — tabs, newlines, backslashes, quotes, unicode — and the chain still verifies', async () => {
    const awkward = {
      note: 'tab\there\nnew line\r\\ back\\slash "quoted" \\N not null',
      nested: { list: ['a\tb', 'ü 😀', '{"json":true}'], empty: '', nothing: null },
    };
    const record = auditRecord({ target: 'plugin:tab\tname', details: awkward });
    await harness.publish([record]);
    await waitFor(async () => {
      const { rows } = await harness.sql.query('SELECT 1 FROM records WHERE id = $1', [record.id]);

      return rows.length === 1;
    });
    const { rows } = await harness.sql.query<{ target: string; details: unknown }>(
      'SELECT target, details FROM records WHERE id = $1',
      [record.id],
    );
    expect(rows[0]).toEqual({ target: 'plugin:tab\tname', details: awkward });
    const verdict = await harness.client.request(subjects.audit.records.verify, {}, { token: auditor });
    expect(verdict).toMatchObject({ ok: true });
  });

  it('the scheduled verification checks the rows since the last one and sets the metric', async () => {
    const app = harness.replicas[0].app;
    const verdict = await app.get(VerifyService).verifyRecent();
    expect(verdict.ok).toBe(true);
    const text = await app.get<ServiceMetrics>(METRICS).registry.metrics();
    expect(text).toMatch(/vivified_audit_last_verification_ok(\{[^}]*\})? 1/);
    expect(text).toMatch(/vivified_audit_records_ingested_total\{[^}]*result="duplicate"[^}]*\} 100/);
  });

  it('sanitizes again at ingest: secrets and PHI masked, identifiers hashed', async () => {
    const record = auditRecord({
      category: 'event',
      action: 'patient.read',
      classification: ['phi'],
      phiInvolved: true,
      target: 'patient:P-77',
      details: {
        password: 'hunter2',
        patientId: 'P-77',
        email: 'jane@example.org',
        note: 'ssn 123-45-6789 token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlX3g',
      },
    });
    const before = await harness.count();
    await harness.publish([record]);
    await harness.waitForRows(before + 1);
    const { rows } = await harness.sql.query<{ details: Record<string, unknown>; target: string }>(
      'SELECT details, target FROM records WHERE id = $1',
      [record.id],
    );
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toMatch(/hunter2|P-77|jane@example|123-45-6789|eyJhbGci/);
    expect(rows[0]?.details['password']).toBe('[REDACTED]');
    expect(rows[0]?.details['patientId']).toMatch(/^hmac:[0-9a-f]{64}$/);
    expect(rows[0]?.target).toMatch(/^patient:hmac:[0-9a-f]{64}$/);
  });

  it('filters and pages with a cursor, newest first', async () => {
    const actor = `user:${randomUUID()}`;
    const traceId = 'a'.repeat(32);
    const mine = Array.from({ length: 25 }, (_, index) =>
      auditRecord({
        actor: { kind: 'user', id: actor },
        category: 'plugin',
        action: 'plugin.approve',
        outcome: index % 2 === 0 ? 'success' : 'denied',
        pluginId: 'acme-crm',
        traceId,
        details: { index },
      }),
    );
    const before = await harness.count();
    await harness.publish(mine);
    await harness.waitForRows(before + 25);

    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await harness.client.request(
        subjects.audit.records.query,
        { actor, limit: 10, ...(cursor ? { cursor } : {}) },
        { token: auditor },
      );
      seen.push(...page.records.map((record) => record.details['index'] as number));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, index) => 24 - index));

    const denied = await harness.client.request(
      subjects.audit.records.query,
      { actor, outcome: 'denied', category: 'plugin', pluginId: 'acme-crm', traceId, phiInvolved: false },
      { token: auditor },
    );
    expect(denied.records).toHaveLength(12);
    expect(denied.records.every((record) => record.outcome === 'denied')).toBe(true);
    const none = await harness.client.request(
      subjects.audit.records.query,
      { actor, from: new Date(Date.now() + 60_000).toISOString() },
      { token: auditor },
    );
    expect(none.records).toHaveLength(0);
    const phi = await harness.client.request(
      subjects.audit.records.query,
      { phiInvolved: true, action: 'patient.read' },
      { token: auditor },
    );
    expect(phi.records.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses callers without audit_viewer and audits the reads themselves', async () => {
    const viewer = await harness.token(traits.viewer);
    const refused = await harness.client
      .request(subjects.audit.records.query, {}, { token: viewer })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(VivifiedError);
    expect((refused as VivifiedError).code).toBe('POLICY_DENIED');
    const anonymous = await harness.client
      .request(subjects.audit.records.query, {}, {})
      .catch((error: unknown) => error);
    expect((anonymous as VivifiedError).code).toBe('UNAUTHENTICATED');

    const readerId = randomUUID();
    const reader = await harness.token(traits.auditor, readerId);
    await harness.client.request(subjects.audit.records.query, { limit: 1 }, { token: reader });
    const recorded = await waitFor(
      async () => {
        const page = await harness.client.request(
          subjects.audit.records.query,
          { actor: `user:${readerId}`, category: 'audit', action: 'audit.query' },
          { token: auditor },
        );

        return page.records.length > 0 ? page.records : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(recorded[0]).toMatchObject({ outcome: 'success', service: 'audit' });
  });
});
