import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { ServiceName } from '@vivified/contracts';
import { infoSubjects, opsPortEnv, serviceNames, streams } from '@vivified/contracts';
import { connectNats, VivifiedClient } from '@vivified/nats-transport';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, freePort, startNatsServer, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

interface Running {
  service: ServiceName;
  child: ChildProcess;
  opsPort: number;
  output: string[];
}

async function health(
  port: number,
): Promise<{ status: number; body: { status: string; checks: Record<string, { ok: boolean }> } }> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);

  return { status: response.status, body: (await response.json()) as never };
}

describe('the whole platform as processes', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  let nc: NatsConnection;
  let client: VivifiedClient;
  let gatewayPort: number;
  const running: Running[] = [];

  beforeAll(async () => {
    for (const service of serviceNames) {
      const main = join(root, 'apps', service, 'dist', 'main.js');
      if (!existsSync(main)) {
        throw new Error(`${main} is missing: run npm run build first (npm test does)`);
      }
    }
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_e2e')]);
    gatewayPort = await freePort();
    const kek = `v1:${randomBytes(32).toString('base64')}`;
    const serviceSecret = randomBytes(32).toString('base64url');
    for (const service of serviceNames) {
      const opsPort = await freePort();
      const child = spawn(process.execPath, [join(root, 'apps', service, 'dist', 'main.js')], {
        cwd: root,
        env: {
          PATH: process.env['PATH'],
          VIVIFIED_NATS_URL: nats.url,
          VIVIFIED_DATABASE_URL: db.url,
          VIVIFIED_LOG_LEVEL: 'info',
          [opsPortEnv(service)]: String(opsPort),
          VIVIFIED_GATEWAY_HTTP_PORT: String(gatewayPort),
          VIVIFIED_KEK: kek,
          VIVIFIED_SERVICE_SECRET: serviceSecret,
          VIVIFIED_ADMIN_PASSWORD: 'Correct-Horse-Battery-9',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const entry: Running = { service, child, opsPort, output: [] };
      const keep = (chunk: Buffer) => entry.output.push(chunk.toString());
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      running.push(entry);
    }
    ({ nc } = await connectNats({ servers: nats.url, name: 'e2e' }));
    client = new VivifiedClient(nc);
  });

  afterAll(async () => {
    await Promise.all(
      running.map(
        (entry) =>
          new Promise<void>((resolve) => {
            if (entry.child.exitCode !== null || entry.child.signalCode !== null) {
              resolve();

              return;
            }
            entry.child.once('exit', () => resolve());
            entry.child.kill('SIGKILL');
          }),
      ),
    );
    await nc?.close();
    await nats?.stop();
    await db?.drop();
  });

  it('brings all six services to ready, each on its own ops port', async () => {
    for (const entry of running) {
      const report = await waitFor(
        async () => {
          const result = await health(entry.opsPort);

          return result.status === 200 ? result : false;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 200,
          what: `${entry.service} ready: ${entry.output.join('').slice(-2000)}`,
        },
      );
      expect(report.body.status).toBe('ok');
      expect(report.body.checks['nats']?.ok).toBe(true);
    }
    const gateway = await fetch(`http://127.0.0.1:${gatewayPort}/health`);
    expect(gateway.status).toBe(200);
  });

  it('answers an info request from each service', async () => {
    for (const service of serviceNames) {
      const reply = await client.requestRaw(infoSubjects[service], {});
      expect(reply).toMatchObject({ name: service, version: '0.1.0' });
    }
  });

  it('has ensured the streams each owner owns', async () => {
    const jsm = await nc.jetstreamManager();
    for (const stream of Object.values(streams)) {
      expect((await jsm.streams.info(stream.name)).config.subjects).toEqual(stream.subjects);
    }
  });

  it('serves real metric values on /metrics', async () => {
    for (const entry of running) {
      const text = await (await fetch(`http://127.0.0.1:${entry.opsPort}/metrics`)).text();
      expect(text).toContain(`vivified_service_ready{service="${entry.service}"} 1`);
      const handled = new RegExp(
        `vivified_handler_requests_total\\{[^}]*subject="${infoSubjects[entry.service].replace(/\./g, '\\.')}"[^}]*outcome="ok"[^}]*\\} ([0-9]+)`,
      );
      expect(Number(handled.exec(text)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/vivified_process_cpu_user_seconds_total/);
    }
  });

  it('logs JSON lines without secrets', () => {
    const lines = running.flatMap((entry) =>
      entry.output
        .join('')
        .split('\n')
        .filter((line) => line.trim().length > 0),
    );
    expect(lines.length).toBeGreaterThan(6);
    for (const line of lines) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    expect(lines.join('\n')).not.toContain(db.url);
  });

  it('reconnects to a restarted NATS server and becomes ready again without a restart', async () => {
    await nats.kill();
    await waitFor(async () => (await health(running[0].opsPort)).status === 503, {
      timeoutMs: 10_000,
      what: 'not ready',
    });
    await nats.start();
    for (const entry of running) {
      await waitFor(async () => (await health(entry.opsPort)).status === 200, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: `${entry.service} ready again`,
      });
      expect(entry.child.exitCode).toBeNull();
    }
    for (const service of serviceNames) {
      await expect(
        waitFor(() => client.requestRaw(infoSubjects[service], {}), {
          timeoutMs: 10_000,
          what: `${service} info`,
        }),
      ).resolves.toMatchObject({ name: service });
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    const codes = await Promise.all(
      running.map(
        (entry) =>
          new Promise<number | null>((resolve) => {
            entry.child.once('exit', (code) => resolve(code));
            entry.child.kill('SIGTERM');
          }),
      ),
    );
    expect(codes).toEqual(serviceNames.map(() => 0));
  });
});
