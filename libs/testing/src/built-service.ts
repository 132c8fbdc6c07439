import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { ServiceName } from '@vivified/contracts';
import { opsPortEnv } from '@vivified/contracts';

import { freePort } from './ports';
import { waitFor } from './wait';

/** A core service running as its built process (`apps/<name>/dist/main.js`). */
export interface BuiltService {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  /** Port of its ops server (`/health`, `/metrics`). */
  readonly opsPort: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once it has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Options of {@link startBuiltService}. */
export interface BuiltServiceOptions {
  /** The repository root. @default three levels above this library's build output */
  root?: string;
  /** The service's environment (PATH is added; its ops port is chosen here). */
  env: Readonly<Record<string, string>>;
  /** How long it may take to report ready. @default 45000 */
  readyTimeoutMs?: number;
}

const defaultRoot = join(__dirname, '..', '..', '..');

/**
 * Starts a service from its build output (run `npm run build` first; `npm test` does) with its own ops port and
 * waits until `/health/ready` answers 200; when it does not, the error carries the service's output.
 */
export async function startBuiltService(
  name: ServiceName,
  options: BuiltServiceOptions,
): Promise<BuiltService> {
  const root = options.root ?? defaultRoot;
  const main = join(root, 'apps', name, 'dist', 'main.js');
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run npm run build first (npm test does)`);
  }
  const opsPort = await freePort();
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: { PATH: process.env['PATH'], ...options.env, [opsPortEnv(name)]: String(opsPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const service: BuiltService = {
    name,
    child,
    opsPort,
    output: () => chunks.join(''),
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${opsPort}/health/ready`).catch(() => undefined))?.ok === true,
    { timeoutMs: options.readyTimeoutMs ?? 45_000, what: `${name} to be ready` },
  ).catch(async (error: unknown) => {
    await service.stop(2_000);
    throw new Error(`${name} did not start; its output:\n${service.output()}`, { cause: error });
  });

  return service;
}
