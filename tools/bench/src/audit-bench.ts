// Benchmark of the audit service's ingest (issue 6): records stored per second with the hash chain, the chain lock
// and signed checkpoints on, the service running as its built process against its own nats-server and database.
// Run after `npm run build`: `node tools/bench/dist/audit-bench.js`.
// Three phases of BENCH_AUDIT_RECORDS each: a backlog of single-record messages drained, single-record messages
// published live, and records emitted live through the services' AuditEmitter (which group-commits, ADR-0007).
// Knobs: BENCH_AUDIT_RECORDS (default 100000), BENCH_AUDIT_BATCH (service batch size, default 2000),
// BENCH_AUDIT_EMIT_CONCURRENCY (emits awaiting at once in phase 3, default 256).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { AuditInput } from '@vivified/service-kit';
import { AuditEmitter, ServiceMetrics } from '@vivified/service-kit';
import type { AuditRecord } from '@vivified/contracts';
import { dynamicSubjects, opsPortEnv, streams } from '@vivified/contracts';
import { connectNats, ensureStream } from '@vivified/nats-transport';
import { createTestDatabase, freePort, startNatsServer, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';
import { serviceNodeArgs } from './service-process';

const RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 100_000);
const BATCH = process.env.BENCH_AUDIT_BATCH ?? '2000';
const EMIT_CONCURRENCY = Number(process.env.BENCH_AUDIT_EMIT_CONCURRENCY ?? 256);
const root = join(__dirname, '..', '..', '..');

function record(index: number): AuditRecord {
  return {
    id: randomUUID(),
    ts: new Date().toISOString(),
    category: index % 3 === 0 ? 'policy' : 'auth',
    action: index % 3 === 0 ? 'policy.decide' : 'login',
    outcome: index % 7 === 0 ? 'denied' : 'success',
    actor: { kind: 'user', id: `user:${randomUUID()}` },
    target: `plugin:acme-${index % 20}`,
    traceId: randomBytes(16).toString('hex'),
    classification: index % 5 === 0 ? ['pii'] : [],
    phiInvolved: false,
    service: 'identity',
    details: { index, ip: '127.0.0.1', userAgent: 'bench/1.0', reason: 'ok', email: 'user@example.org' },
  };
}

/** Publishes records with publish-ack, a window of acks in flight; resolves the publish rate. */
async function publish(nc: NatsConnection, count: number): Promise<number> {
  const js = nc.jetstream();
  const started = performance.now();
  const window = 2_000;
  for (let start = 0; start < count; start += window) {
    const slice = Array.from({ length: Math.min(window, count - start) }, (_, i) => record(start + i));
    await Promise.all(
      slice.map((item) =>
        js.publish(dynamicSubjects.auditRecord(item.category), JSON.stringify(item), { msgID: item.id }),
      ),
    );
  }

  return count / ((performance.now() - started) / 1000);
}

/**
 * Emits `count` records through the services' own {@link AuditEmitter} with `concurrency` emits awaiting at once,
 * as a busy service does (each emit resolves when its record is stored in the stream; the emitter group-commits,
 * ADR-0007); resolves the emit rate.
 */
async function emitThroughEmitter(nc: NatsConnection, count: number, concurrency: number): Promise<number> {
  const emitter = new AuditEmitter({
    service: 'identity',
    js: nc.jetstream(),
    connection: { isConnected: () => !nc.isClosed(), onChange: () => () => undefined },
    logger: console,
    metrics: new ServiceMetrics({ service: 'identity', processMetrics: false }),
  });
  const input = (index: number): AuditInput => ({
    category: index % 3 === 0 ? 'policy' : 'auth',
    action: index % 3 === 0 ? 'policy.decide' : 'login',
    outcome: index % 7 === 0 ? 'denied' : 'success',
    actor: { kind: 'user', id: `user:${randomUUID()}` },
    target: `plugin:acme-${index % 20}`,
    classification: index % 5 === 0 ? ['pii'] : [],
    details: { index, ip: '127.0.0.1', userAgent: 'bench/1.0', reason: 'ok' },
  });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        await emitter.emit(input(next++));
      }
    }),
  );
  await emitter.close();

  return count / ((performance.now() - started) / 1000);
}

async function stored(sql: Client): Promise<number> {
  const { rows } = await sql.query<{ n: string }>('SELECT seq AS n FROM audit.chain_head');

  return Number(rows[0]?.n ?? 0);
}

/** Polls the stored count until `target`; resolves the rate between the first and the last stored row. */
async function drainRate(
  sql: Client,
  target: number,
  from: number,
): Promise<{ rate: number; seconds: number }> {
  let firstAt = 0;
  let firstCount = from;
  for (;;) {
    const count = await stored(sql);
    const now = performance.now();
    if (count > from && firstAt === 0) {
      firstAt = now;
      firstCount = count;
    }
    if (count >= target) {
      const seconds = (now - firstAt) / 1000;

      return { rate: (count - firstCount) / seconds, seconds };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const main = join(root, 'apps', 'audit', 'dist', 'main.js');
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run npm run build first`);
  }
  const [nats, db, opsPort] = await Promise.all([
    startNatsServer(),
    createTestDatabase('vivified_audit_bench'),
    freePort(),
  ]);
  const { nc } = await connectNats({ servers: [nats.url], name: 'audit-bench' });
  await ensureStream(await nc.jetstreamManager(), { ...streams.audit, discard: 'old' });
  let child: ChildProcess | undefined;
  const sql = new Client({ connectionString: db.url });
  try {
    // phase 1: a backlog of RECORDS waits in the stream; the service starts and drains it
    const backlogPublishRate = await publish(nc, RECORDS);
    // BENCH_AUDIT_NODE_ARGS: extra node flags for the service (`--cpu-prof`)
    const nodeArgs = serviceNodeArgs('BENCH_AUDIT_NODE_ARGS');
    child = spawn(process.execPath, [...nodeArgs, main], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        VIVIFIED_NATS_URL: nats.url,
        VIVIFIED_DATABASE_URL: db.url,
        VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
        VIVIFIED_LOG_LEVEL: 'warn',
        VIVIFIED_AUDIT_BATCH_SIZE: BATCH,
        [opsPortEnv('audit')]: String(opsPort),
        OTEL_SDK_DISABLED: 'true',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${opsPort}/health/ready`).catch(() => undefined))?.ok === true,
      { timeoutMs: 60_000, what: 'audit to be ready' },
    );
    await sql.connect();
    const backlog = await drainRate(sql, RECORDS, 0);

    // phase 2: records published while the service ingests them (publisher and service share the 2 cores)
    const liveStarted = performance.now();
    const [livePublishRate] = await Promise.all([publish(nc, RECORDS), drainRate(sql, 2 * RECORDS, RECORDS)]);
    const liveSeconds = (performance.now() - liveStarted) / 1000;

    // phase 3: records emitted through the services' AuditEmitter (group commit) while the service ingests them
    const emitterStarted = performance.now();
    const [emitterRate] = await Promise.all([
      emitThroughEmitter(nc, RECORDS, EMIT_CONCURRENCY),
      drainRate(sql, 3 * RECORDS, 2 * RECORDS),
    ]);
    const emitterSeconds = (performance.now() - emitterStarted) / 1000;
    const { rows } = await sql.query<{ n: string; c: string }>(
      'SELECT (SELECT count(*) FROM audit.records) AS n, (SELECT count(*) FROM audit.checkpoints) AS c',
    );
    const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    const batchCount = /vivified_audit_ingest_batch_size_count(?:\{[^}]*\})? (\d+)/.exec(metrics)?.[1];

    console.log(
      JSON.stringify(
        {
          records: RECORDS,
          batchSize: Number(BATCH),
          backlogDrain: { recordsPerSecond: Math.round(backlog.rate), seconds: backlog.seconds },
          live: {
            recordsPerSecond: Math.round(RECORDS / liveSeconds),
            publishRecordsPerSecond: Math.round(livePublishRate),
          },
          liveThroughEmitter: {
            recordsPerSecond: Math.round(RECORDS / emitterSeconds),
            emitRecordsPerSecond: Math.round(emitterRate),
            concurrency: EMIT_CONCURRENCY,
          },
          backlogPublishRecordsPerSecond: Math.round(backlogPublishRate),
          storedRows: Number(rows[0]?.n),
          expectedRows: 3 * RECORDS,
          checkpoints: Number(rows[0]?.c),
          batches: Number(batchCount),
        },
        null,
        2,
      ),
    );
  } finally {
    child?.kill('SIGTERM');
    await sql.end().catch(() => undefined);
    await nc.drain().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await Promise.allSettled([nats.stop(), db.drop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
