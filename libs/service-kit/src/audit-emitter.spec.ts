import { trace } from '@opentelemetry/api';
import { ErrorCode, VivifiedError, dynamicSubjects, subjects } from '@vivified/contracts';
import type { JetStreamClient, PubAck } from 'nats';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { AuditEmitterOptions, AuditInput } from './audit-emitter';
import { AuditEmitter } from './audit-emitter';
import { ServiceMetrics } from './metrics';
import type { ConnectionState } from './nats-health';
import { startTelemetry } from './telemetry';

class FakeConnection implements ConnectionState {
  connected = true;
  private readonly listeners = new Set<(connected: boolean) => void>();

  isConnected(): boolean {
    return this.connected;
  }

  onChange(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);

    return () => this.listeners.delete(listener);
  }

  set(connected: boolean): void {
    this.connected = connected;
    this.listeners.forEach((listener) => listener(connected));
  }
}

const ack: PubAck = { stream: 'VIVIFIED_AUDIT', seq: 1, duplicate: false };

const login: AuditInput = {
  category: 'auth',
  action: 'login',
  outcome: 'success',
  actor: { kind: 'user', id: 'user:7b0e' },
};

const phiRead: AuditInput = {
  category: 'event',
  action: 'patient_record.read',
  outcome: 'success',
  actor: { kind: 'plugin', id: 'plugin:ehr' },
  classification: ['phi'],
};

function newEmitter(overrides: Partial<AuditEmitterOptions> = {}) {
  const publish = vi.fn<JetStreamClient['publish']>().mockResolvedValue(ack);
  const connection = new FakeConnection();
  const metrics = new ServiceMetrics({ service: 'identity', processMetrics: false });
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const sut = new AuditEmitter({
    service: 'identity',
    js: { publish },
    connection,
    logger,
    metrics,
    publishTimeoutMs: 100,
    retryInitialMs: 5,
    retryMaxMs: 20,
    ...overrides,
  });
  /** Every record published, in order, whether alone or in a batch message. */
  const published = () =>
    publish.mock.calls.flatMap(([subject, data]) => {
      const body = JSON.parse(String(data)) as Record<string, unknown>;

      return subject === subjects.auditRecords.batch
        ? (body['records'] as Array<Record<string, unknown>>)
        : [body];
    });
  const metric = async (outcome: string) =>
    (await metrics.registry.getSingleMetric('vivified_audit_emitted_total')?.get())?.values.find(
      (value) => value.labels['outcome'] === outcome,
    )?.value ?? 0;

  return { sut, publish, connection, metrics, logger, published, metric };
}

describe(AuditEmitter.name, () => {
  const emitters: AuditEmitter[] = [];
  afterEach(async () => {
    await Promise.all(emitters.splice(0).map((emitter) => emitter.close()));
  });
  const setup = (overrides: Partial<AuditEmitterOptions> = {}) => {
    const mocks = newEmitter(overrides);
    emitters.push(mocks.sut);

    return mocks;
  };

  it('publishes a full record to its category subject with the id as Nats-Msg-Id', async () => {
    const { sut, publish, published, metric } = setup();

    const record = await sut.emit({ ...login, target: 'user:7b0e', classification: ['pii', 'pii'] });

    expect(record.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.now() - Date.parse(record.ts)).toBeLessThan(5_000);
    expect(record).toMatchObject({
      service: 'identity',
      classification: ['pii'],
      phiInvolved: false,
      details: {},
    });
    expect(published()).toEqual([JSON.parse(JSON.stringify(record))]);
    const [subject, , options] = publish.mock.calls[0] ?? [];
    expect(subject).toBe(dynamicSubjects.auditRecord('auth'));
    expect(options).toMatchObject({ msgID: record.id, timeout: 100 });
    expect(options?.headers?.get('Vivified-Classification')).toBe('pii');
    expect(await metric('published')).toBe(1);
  });

  it('masks secrets and PHI in details at any depth', async () => {
    const { sut, published } = setup();

    await sut.emit({
      ...login,
      details: {
        method: 'totp',
        request: {
          password: 'hunter2',
          patient: { name: 'Jane Roe' },
          headers: { authorization: 'Bearer x' },
        },
      },
    });

    const text = JSON.stringify(published());
    expect(published()[0]?.['details']).toEqual({
      method: 'totp',
      request: { password: '[REDACTED]', patient: '[REDACTED]', headers: { authorization: '[REDACTED]' } },
    });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('Jane Roe');
  });

  it('carries the trace id of the active span', async () => {
    const telemetry = startTelemetry({ service: 'identity', version: 'test', env: {} });
    try {
      const { sut, publish } = setup();

      const { record, traceId } = await trace.getTracer('spec').startActiveSpan('login', async (span) => {
        const emitted = await sut.emit(login);
        span.end();

        return { record: emitted, traceId: span.spanContext().traceId };
      });

      expect(record.traceId).toBe(traceId);
      expect(publish.mock.calls[0]?.[2]?.headers?.get('traceparent')).toContain(traceId);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('gives each record of emitLater the trace of the span it was emitted in, built later together', async () => {
    const telemetry = startTelemetry({ service: 'identity', version: 'test', env: {} });
    try {
      const { sut, published } = setup({ lingerMs: 1 });
      const traceIds = ['first', 'second'].map((name) =>
        trace.getTracer('spec').startActiveSpan(name, (span) => {
          sut.emitLater({ ...login, action: name });
          span.end();

          return span.spanContext().traceId;
        }),
      );
      sut.emitLater({ ...login, action: 'untraced' });

      await vi.waitFor(() => expect(published()).toHaveLength(3));
      expect(traceIds[0]).not.toBe(traceIds[1]);
      expect(published().map((record) => [record['action'], record['traceId']])).toEqual([
        ['first', traceIds[0]],
        ['second', traceIds[1]],
        ['untraced', undefined],
      ]);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('refuses an invalid record without publishing it', async () => {
    const { sut, publish, metric } = setup();

    const run = sut.emit({ ...login, action: 'Not An Action' });

    await expect(run).rejects.toMatchObject({ code: ErrorCode.Internal, details: [{ path: 'action' }] });
    expect(publish).not.toHaveBeenCalled();
    expect(await metric('invalid')).toBe(1);
  });

  it('fails closed for PHI when the publish fails', async () => {
    const { sut, publish, metric } = setup();
    publish.mockRejectedValueOnce(new Error('TIMEOUT'));

    const run = sut.emit(phiRead);

    await expect(run).rejects.toBeInstanceOf(VivifiedError);
    await expect(run).rejects.toMatchObject({ code: ErrorCode.Unavailable, reason: 'audit_unavailable' });
    expect(sut.pending).toBe(0);
    expect(await metric('refused')).toBe(1);
  });

  it('refuses PHI at once while disconnected, without a publish that could land later', async () => {
    const { sut, publish, connection } = setup();
    connection.set(false);

    await expect(sut.emit({ ...login, phiInvolved: true })).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
    });
    expect(publish).not.toHaveBeenCalled();
  });

  it('buffers other records when publishing fails and retries them in order', async () => {
    const { sut, publish, published, logger, metric } = setup();
    publish
      .mockRejectedValueOnce(new Error('no responders'))
      .mockRejectedValueOnce(new Error('no responders'));

    const first = await sut.emit(login);
    const second = await sut.emit({ ...login, action: 'logout' });

    expect(sut.pending).toBeGreaterThan(0);
    expect(logger.warn).toHaveBeenCalledWith(
      { reason: 'no responders' },
      'audit publish failed, buffering records in memory',
    );
    await vi.waitFor(() => expect(sut.pending).toBe(0), { timeout: 2_000 });
    expect(
      published()
        .slice(-2)
        .map((record) => record['id']),
    ).toEqual([first.id, second.id]);
    expect(await metric('buffered')).toBe(2);
    expect(logger.info).toHaveBeenCalledWith({ published: 2 }, 'audit buffer flushed');
  });

  it('drops the oldest records beyond the buffer limit and counts them', async () => {
    const { sut, connection, metrics, published } = setup({
      bufferLimit: 2,
      retryInitialMs: 60_000,
      retryMaxMs: 60_000,
    });
    connection.connected = false;

    const records = [await sut.emit(login), await sut.emit(login), await sut.emit(login)];
    connection.set(true);

    await vi.waitFor(() => expect(sut.pending).toBe(0), { timeout: 2_000 });
    expect(published().map((record) => record['id'])).toEqual([records[1]?.id, records[2]?.id]);
    expect(await metrics.render()).toContain('vivified_audit_dropped_total{service="identity"} 1');
  });

  it('reports records it could not publish before shutdown', async () => {
    const { sut, connection, logger } = setup();
    connection.connected = false;
    await sut.emit(login);

    await sut.close();

    expect(logger.error).toHaveBeenCalledWith({ lost: 1 }, 'audit records not published before shutdown');
  });

  it('publishes records emitted together as one batch message, each emit resolving once stored', async () => {
    const { sut, publish, published } = setup();

    const records = await Promise.all([
      sut.emit(login),
      sut.emit(phiRead),
      sut.emit({ ...login, action: 'logout' }),
    ]);

    expect(publish).toHaveBeenCalledTimes(1);
    const [subject, , options] = publish.mock.calls[0] ?? [];
    expect(subject).toBe(subjects.auditRecords.batch);
    expect(options?.msgID).toBe(`${records[0]?.id}+3`);
    expect(options?.headers?.get('Vivified-Classification')).toBe('phi');
    expect(published().map((record) => record['id'])).toEqual(records.map((record) => record.id));
  });

  it('gathers records while its publishes wait for acks and sends them with the next one', async () => {
    let release: (() => void) | undefined;
    const { sut, publish, published } = setup({ maxInFlight: 1 });
    publish.mockImplementationOnce(
      () => new Promise((resolve) => (release = () => resolve({ ...ack, seq: 1 }))),
    );

    const first = sut.emit(login);
    await vi.waitFor(() => expect(publish).toHaveBeenCalledTimes(1));
    const later = [sut.emit(login), sut.emit(login), sut.emit(login)];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(publish).toHaveBeenCalledTimes(1);
    release?.();
    await Promise.all([first, ...later]);

    expect(publish).toHaveBeenCalledTimes(2);
    expect(publish.mock.calls[1]?.[0]).toBe(subjects.auditRecords.batch);
    expect(published()).toHaveLength(4);
  });

  it('refuses every PHI record of a batch whose publish fails and buffers the others', async () => {
    const { sut, publish, published } = setup();
    publish.mockRejectedValueOnce(new Error('no responders'));

    const [plain, phi] = await Promise.allSettled([sut.emit(login), sut.emit(phiRead)]);

    expect(plain.status).toBe('fulfilled');
    expect(phi).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.Unavailable } });
    await vi.waitFor(() => expect(sut.pending).toBe(0), { timeout: 2_000 });
    expect(published().map((record) => record['action'])).toEqual(['login', 'patient_record.read', 'login']);
  });

  it('lets records nobody waits for linger and leave together, or with the next awaited record', async () => {
    const { sut, publish, published } = setup({ lingerMs: 30 });

    sut.emitLater(login);
    sut.emitLater({ ...login, action: 'logout' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(publish).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(publish).toHaveBeenCalledTimes(1));
    expect(publish.mock.calls[0]?.[0]).toBe(subjects.auditRecords.batch);

    sut.emitLater(login);
    await sut.emit({ ...login, action: 'password.change' });
    expect(publish).toHaveBeenCalledTimes(2);
    expect(
      published()
        .slice(2)
        .map((record) => record['action'])
        .sort(),
    ).toEqual(['login', 'password.change']);
  });

  it('buffers records nobody waits for when their batch fails, and counts each once it is stored', async () => {
    const { sut, publish, published, metric, logger } = setup({ lingerMs: 1 });
    publish.mockRejectedValueOnce(new Error('no responders'));

    sut.emitLater(login);
    sut.emitLater({ ...login, action: 'logout' });
    sut.emitLater({ ...login, action: 'password.change' });

    await vi.waitFor(() => expect(metric('published')).resolves.toBe(3), { timeout: 2_000 });
    expect(sut.pending).toBe(0);
    expect(await metric('buffered')).toBe(3);
    expect(publish).toHaveBeenCalledTimes(2);
    // the failed batch, then the same three records again from the buffer, in order
    expect(published().map((record) => record['action'])).toEqual([
      'login',
      'logout',
      'password.change',
      'login',
      'logout',
      'password.change',
    ]);
    expect(new Set(published().map((record) => record['id'])).size).toBe(3);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('publishes a PHI record given to emitLater at once, and flushes lingering records on close', async () => {
    const { sut, publish, published } = setup({ lingerMs: 60_000 });

    sut.emitLater(phiRead);
    await vi.waitFor(() => expect(publish).toHaveBeenCalledTimes(1));
    sut.emitLater(login);
    await sut.close();

    expect(published().map((record) => record['action'])).toEqual(['patient_record.read', 'login']);
  });

  it('replaces details too large for one message by a note, and publishes the smaller record', async () => {
    const { sut, published } = setup();
    // many keys of the largest string the sanitizer keeps: far beyond the stream's message size
    const details = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, 'x'.repeat(1_000)]));

    const record = await sut.emit({ ...login, details });

    expect(record.details).toMatchObject({ truncated: true });
    expect(published()[0]?.['details']).toEqual(record.details);
  });
});
