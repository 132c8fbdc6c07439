import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, isListening } from './ports';
import { waitFor } from './wait';

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Port to listen on; a free one by default. */
  port?: number;
  /** JetStream store directory; a new temporary one by default (removed by `stop`). */
  storeDir?: string;
  /** Extra command-line arguments. */
  args?: string[];
}

/** A nats-server process a test started for itself. */
export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The running process's id (undefined while halted); benchmarks read its CPU time. */
  readonly pid: number | undefined;
  /** Stops the process (SIGTERM); the store stays, so `start` brings the same server back. */
  halt(): Promise<void>;
  /** Kills the process at once (SIGKILL). */
  kill(): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Stops it and removes its temporary store. */
  stop(): Promise<void>;
}

/** The nats-server binary: `NATS_SERVER_BIN`, the machine's /usr/sbin one, or the PATH's. */
export function natsServerBinary(): string {
  return (
    process.env['NATS_SERVER_BIN'] ??
    (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server')
  );
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** Starts a nats-server with JetStream on 127.0.0.1 with its own store and waits until it accepts clients. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<TestNatsServer> {
  const port = options.port ?? (await freePort());
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), 'vivified-nats-')));
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    output = '';
    const proc = spawn(
      natsServerBinary(),
      ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...(options.args ?? [])],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    try {
      await waitFor(
        async () => {
          if (proc.exitCode !== null) {
            throw new Error(`nats-server exited with ${proc.exitCode}: ${output}`);
          }

          return output.includes('Server is ready') && (await isListening(port));
        },
        { timeoutMs: 15_000, what: `nats-server on port ${port}` },
      );
    } catch (error) {
      proc.kill('SIGKILL');
      throw error;
    }
  };

  const signal = async (name: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc) {
      proc.kill(name);
      await exited(proc);
    }
  };

  await start();

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid;
    },
    halt: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    start,
    stop: async () => {
      await signal('SIGTERM');
      if (ownStore) {
        await rm(storeDir, { recursive: true, force: true });
      }
    },
  };
}
