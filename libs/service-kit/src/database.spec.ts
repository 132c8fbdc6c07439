import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  MigrationError,
  RetryAbortedError,
  connectWithRetry,
  describeDatabaseUrl,
  readMigrations,
  scrubCredentials,
} from './database';

describe(describeDatabaseUrl.name, () => {
  it('drops the password and query of a connection string', () => {
    expect(describeDatabaseUrl('postgres://app:hunter2@db:5432/vivified?sslpassword=x')).toBe(
      'postgres://app@db:5432/vivified',
    );
    expect(describeDatabaseUrl('not a url')).toBe('<unparseable database url>');
  });
});

describe(scrubCredentials.name, () => {
  it('masks credentials of URLs quoted in a message', () => {
    expect(scrubCredentials('cannot reach postgresql://app:s3cr3t@db/x and nats://u:p@n:4222')).toBe(
      'cannot reach postgresql://app:***@db/x and nats://u:***@n:4222',
    );
  });
});

describe(readMigrations.name, () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vivified-migrations-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads NNNN_name.sql files in version order with a line-ending-independent checksum', async () => {
    await writeFile(join(dir, '0002_add_index.sql'), 'create index i on t (a);\r\n');
    await writeFile(join(dir, '0001_create_t.sql'), 'create table t (a int);\n');
    await writeFile(join(dir, 'README.md'), 'ignored');

    const sut = await readMigrations(dir);

    expect(sut.map(({ version, name, file }) => ({ version, name, file }))).toEqual([
      { version: 1, name: 'create_t', file: '0001_create_t.sql' },
      { version: 2, name: 'add_index', file: '0002_add_index.sql' },
    ]);
    expect(sut[1]?.sql).toBe('create index i on t (a);\n');
    expect(sut[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a misnamed file and a repeated version', async () => {
    await writeFile(join(dir, 'create.sql'), '');
    await expect(readMigrations(dir)).rejects.toThrow(MigrationError);

    await rm(join(dir, 'create.sql'));
    await writeFile(join(dir, '0001_a.sql'), '');
    await writeFile(join(dir, '0001_b.sql'), '');
    await expect(readMigrations(dir)).rejects.toThrow('two migration files have version 0001');
  });
});

describe(connectWithRetry.name, () => {
  it('retries with growing, capped delays until the attempt succeeds, logging without credentials', async () => {
    const logger = { warn: vi.fn() };
    const attempt = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(
        Object.assign(new Error('connect postgres://app:hunter2@db failed'), { code: 'ECONNREFUSED' }),
      )
      .mockRejectedValueOnce(new Error('the database system is starting up'))
      .mockRejectedValueOnce(new Error('still starting'))
      .mockResolvedValueOnce('connected');

    const sut = await connectWithRetry(attempt, { what: 'db', logger, initialDelayMs: 4, maxDelayMs: 10 });

    expect(sut).toBe('connected');
    expect(attempt).toHaveBeenCalledTimes(4);
    const delays = logger.warn.mock.calls.map(([fields]) => (fields as { retryInMs: number }).retryInMs);
    expect(delays[0]).toBeGreaterThanOrEqual(2);
    expect(delays[0]).toBeLessThanOrEqual(4);
    expect(delays[2]).toBeGreaterThanOrEqual(5);
    expect(delays[2]).toBeLessThanOrEqual(10);
    expect(logger.warn.mock.calls[0]?.[0]).toMatchObject({
      target: 'db',
      attempt: 1,
      err: { code: 'ECONNREFUSED', message: 'connect postgres://app:***@db failed' },
    });
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain('hunter2');
  });

  it('gives up only when aborted, with the last failure as cause', async () => {
    const controller = new AbortController();
    const failure = new Error('down');
    const attempt = vi.fn(() => Promise.reject(failure));
    const logger = { warn: vi.fn() };
    const started = Date.now();
    setTimeout(() => controller.abort(), 30);

    const run = connectWithRetry(attempt, {
      what: 'db',
      logger,
      signal: controller.signal,
      initialDelayMs: 60_000,
    });

    await expect(run).rejects.toThrow(RetryAbortedError);
    await expect(run).rejects.toMatchObject({ cause: failure });
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
