import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';

import { NestLoggerAdapter, createLogger, redactPaths } from './logger';
import { startTelemetry } from './telemetry';

function capture() {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  return { lines, destination, parsed };
}

describe(createLogger.name, () => {
  it('writes JSON lines with service, pid, ISO time and a string level', () => {
    const out = capture();
    const sut = createLogger({ service: 'identity', level: 'debug', destination: out.destination });

    sut.debug({ userId: 'u-1' }, 'user loaded');

    const [line, ...rest] = out.parsed();
    const { time, ...fields } = line ?? {};
    expect(rest).toEqual([]);
    expect(fields).toEqual({
      level: 'debug',
      service: 'identity',
      pid: process.pid,
      userId: 'u-1',
      msg: 'user loaded',
    });
    expect(Date.now() - Date.parse(String(time))).toBeLessThan(5_000);
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('never writes a token or a password, at any depth or spelling', () => {
    const out = capture();
    const sut = createLogger({ service: 'identity', destination: out.destination });
    const token = 'eyJhbGciOiJFZERTQSJ9.c2VjcmV0.sig';
    const password = 'correct horse battery staple';

    sut.info({ token, password }, 'top level');
    sut.info(
      { req: { headers: { authorization: `Bearer ${token}`, 'set-cookie': [`sid=${token}`] } } },
      'headers',
    );
    sut.info(
      { a: { b: { c: { d: { e: { f: { userPassword: password, Access_Token: token } } } } } } },
      'deep',
    );
    sut.info({ list: [{ credentials: { password } }] }, 'array');
    sut
      .child({ session: { refreshToken: token } })
      .child({ nested: { password } })
      .info('grandchild binding');

    expect(out.lines).toHaveLength(5);
    for (const line of out.lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(password);
    }
    expect(out.parsed()[1]).toMatchObject({
      req: { headers: { authorization: '[REDACTED]', 'set-cookie': '[REDACTED]' } },
    });
  });

  it('masks PHI-shaped keys', () => {
    const out = capture();
    const sut = createLogger({ service: 'audit', destination: out.destination });

    sut.warn({
      record: {
        patientName: 'Jane Roe',
        ssn: '123-45-6789',
        dob: '1980-01-01',
        mrn: 'MRN-77',
        kind: 'visit',
      },
    });

    const line = out.lines[0] ?? '';
    expect(line).toContain('"kind":"visit"');
    for (const value of ['Jane Roe', '123-45-6789', '1980-01-01', 'MRN-77']) {
      expect(line).not.toContain(value);
    }
  });

  it('adds trace_id and span_id of the active span', async () => {
    const telemetry = startTelemetry({ service: 'policy', version: 'test', env: {} });
    try {
      const out = capture();
      const sut = createLogger({ service: 'policy', destination: out.destination });

      const ids = trace.getTracer('spec').startActiveSpan('decide', (span) => {
        sut.info('inside');
        span.end();

        return span.spanContext();
      });
      sut.info('outside');

      const [inside, outside] = out.parsed();
      expect(inside).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
      expect(outside).not.toHaveProperty('trace_id');
    } finally {
      await telemetry.shutdown();
    }
  });

  it('redacts credential headers that serializers add after the formatter ran', () => {
    const out = capture();
    const sut = createLogger({
      service: 'gateway',
      destination: out.destination,
    }).child(
      {},
      {
        serializers: {
          req: (req: { raw: { auth: string } }) => ({ headers: { authorization: req.raw.auth } }),
        },
      },
    );

    sut.info({ req: { raw: { auth: 'Bearer abc.def.ghi' } } });

    expect(redactPaths).toEqual(
      expect.arrayContaining(['password', 'req.headers.authorization', 'res.headers["set-cookie"]']),
    );
    expect(out.lines[0]).not.toContain('abc.def.ghi');
    expect(out.parsed()[0]).toMatchObject({ req: { headers: { authorization: '[REDACTED]' } } });
  });
});

describe(NestLoggerAdapter.name, () => {
  function setup() {
    const out = capture();
    const sut = new NestLoggerAdapter(
      createLogger({ service: 'gateway', level: 'trace', destination: out.destination }),
    );

    return { sut, out };
  }

  it('maps Nest levels and keeps the context argument', () => {
    const { sut, out } = setup();

    sut.log('Nest application successfully started', 'NestApplication');
    sut.warn('slow', 'Router');
    sut.verbose('mapped');

    expect(out.parsed().map(({ level, msg, context }) => ({ level, msg, context }))).toEqual([
      { level: 'info', msg: 'Nest application successfully started', context: 'NestApplication' },
      { level: 'warn', msg: 'slow', context: 'Router' },
      { level: 'trace', msg: 'mapped', context: undefined },
    ]);
  });

  it('keeps the stack Nest passes with an error, and serializes Error objects', () => {
    const { sut, out } = setup();
    const stack = 'Error: boom\n    at Object.<anonymous> (main.ts:1:1)';

    sut.error('boom', stack, 'ExceptionHandler');
    sut.error(new TypeError('bad type'), 'ExceptionsZone');

    const [first, second] = out.parsed();
    expect(first).toMatchObject({ level: 'error', msg: 'boom', context: 'ExceptionHandler', err: { stack } });
    expect(second).toMatchObject({ msg: 'bad type', context: 'ExceptionsZone', err: { type: 'TypeError' } });
  });

  it('masks secrets in objects Nest code logs', () => {
    const { sut, out } = setup();

    sut.debug({ event: 'login', password: 'hunter2' }, 'AuthController');

    expect(out.lines[0]).not.toContain('hunter2');
    expect(out.parsed()[0]).toMatchObject({ event: 'login', context: 'AuthController' });
  });
});
