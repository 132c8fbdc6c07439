import { randomUUID } from 'node:crypto';

import { ErrorCode, dynamicSubjects, headers, streams } from '@vivified/contracts';
import type { JetStreamManager, NatsConnection } from 'nats';
import { DiscardPolicy, StorageType, connect, nanos } from 'nats';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer, waitFor } from '@vivified/testing';

import { AuditEmitter } from '../src/audit-emitter';
import { ServiceMetrics } from '../src/metrics';
import { NatsConnectionMonitor } from '../src/nats-health';

describe('AuditEmitter (nats-server)', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let monitor: NatsConnectionMonitor;
  let metrics: ServiceMetrics;
  let nextId: string | undefined;
  let sut: AuditEmitter;
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };

  /** Every stored record as `Nats-Msg-Id` → subject. */
  async function stored(): Promise<{ msgId: string | undefined; subject: string; id: unknown }[]> {
    const { state } = await jsm.streams.info(streams.audit.name);
    const out = [];
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(streams.audit.name, { seq });
      out.push({
        msgId: message.header.get(headers.msgId) || undefined,
        subject: message.subject,
        id: message.json<{ id: unknown }>().id,
      });
    }

    return out;
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({
      servers: nats.url,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
      name: 'service-kit-int',
    });
    jsm = await nc.jetstreamManager();
    const audit = streams.audit;
    await jsm.streams.add({
      name: audit.name,
      subjects: [...audit.subjects],
      storage: audit.storage === 'file' ? StorageType.File : StorageType.Memory,
      max_age: nanos(audit.maxAgeMs),
      duplicate_window: nanos(audit.duplicateWindowMs),
      max_msg_size: audit.maxMsgSize,
      discard: audit.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    });
    metrics = new ServiceMetrics({ service: 'registry', processMetrics: false });
    monitor = new NatsConnectionMonitor(nc, { metrics, logger });
    sut = new AuditEmitter({
      service: 'registry',
      js: nc.jetstream(),
      connection: monitor,
      logger,
      metrics,
      publishTimeoutMs: 1_000,
      retryInitialMs: 100,
      retryMaxMs: 500,
      newId: () => nextId ?? randomUUID(),
    });
  });

  afterAll(async () => {
    await sut?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('stores a record in VIVIFIED_AUDIT under its category with the record id as Nats-Msg-Id', async () => {
    const record = await sut.emit({
      category: 'plugin',
      action: 'plugin.approve',
      outcome: 'success',
      actor: { kind: 'user', id: 'user:admin' },
      target: 'plugin:acme-crm',
      details: { clientSecret: 'never-stored' },
    });

    const all = await stored();
    expect(all).toEqual([
      { msgId: record.id, subject: dynamicSubjects.auditRecord('plugin'), id: record.id },
    ]);
    const message = await jsm.streams.getMessage(streams.audit.name, {
      last_by_subj: dynamicSubjects.auditRecord('plugin'),
    });
    expect(message.json()).toEqual(JSON.parse(JSON.stringify(record)));
    expect(message.string()).not.toContain('never-stored');
  });

  it('stores a record published twice with the same id once', async () => {
    nextId = randomUUID();
    const before = (await stored()).length;
    try {
      await sut.emit({
        category: 'config',
        action: 'config.update',
        outcome: 'success',
        actor: { kind: 'service', id: 'service:policy' },
      });
      await sut.emit({
        category: 'config',
        action: 'config.update',
        outcome: 'success',
        actor: { kind: 'service', id: 'service:policy' },
      });
    } finally {
      nextId = undefined;
    }

    const all = await stored();
    expect(all).toHaveLength(before + 1);
    expect(all.filter((entry) => entry.msgId === all.at(-1)?.msgId)).toHaveLength(1);
  });

  it('buffers a record while NATS is down, refuses PHI, and flushes after restart', async () => {
    await nats.halt();
    await waitFor(() => !monitor.isConnected(), { what: 'the client to notice the disconnect' });
    expect(await metrics.render()).toContain('vivified_nats_connected{service="registry"} 0');
    await expect(monitor.readinessCheck()()).resolves.toEqual({ ok: false, detail: 'disconnected' });

    const buffered = await sut.emit({
      category: 'auth',
      action: 'logout',
      outcome: 'success',
      actor: { kind: 'user', id: 'user:1' },
    });
    const phi = sut.emit({
      category: 'event',
      action: 'patient_record.read',
      outcome: 'success',
      actor: { kind: 'plugin', id: 'plugin:ehr' },
      classification: ['phi'],
      details: { patientId: 'p-1' },
    });

    await expect(phi).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    expect(sut.pending).toBe(1);

    await nats.start();
    await waitFor(() => sut.pending === 0, { timeoutMs: 20_000, what: 'the audit buffer to flush' });

    const all = await stored();
    expect(all.filter((entry) => entry.msgId === buffered.id)).toEqual([
      { msgId: buffered.id, subject: dynamicSubjects.auditRecord('auth'), id: buffered.id },
    ]);
    expect(all.filter((entry) => entry.subject === dynamicSubjects.auditRecord('event'))).toEqual([]);
    expect(monitor.isConnected()).toBe(true);
    expect(await metrics.render()).toContain(
      'vivified_audit_emitted_total{outcome="refused",service="registry"} 1',
    );
  });
});
