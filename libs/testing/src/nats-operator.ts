import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import type { NatsServerOptions, TestNatsServer } from './nats-server';
import { startNatsServer } from './nats-server';

const run = promisify(execFile);

/** The production setup tool; the same files the operator of a deployment gets (docs/nats-auth.md). */
const SETUP_SCRIPT = resolve(__dirname, '..', '..', '..', 'tools', 'scripts', 'nats-setup.mjs');

/** A nats-server in operator (JWT) mode, configured by `tools/scripts/nats-setup.mjs`. */
export interface TestNatsOperatorServer extends TestNatsServer {
  /** Folder of the setup's files (removed by `stop`). */
  readonly dir: string;
  /** Public key of the platform's account (`VIVIFIED_NATS_ACCOUNT_PUBLIC_KEY`). */
  readonly accountPublicKey: string;
  /** Seed of the account's signing key (`VIVIFIED_NATS_ACCOUNT_SIGNING_SEED`). */
  readonly accountSigningSeed: string;
  /** Seed of the operator's signing key (`VIVIFIED_NATS_OPERATOR_SIGNING_SEED`). */
  readonly operatorSigningSeed: string;
  /** Path of the core services' creds file (`VIVIFIED_NATS_CREDS`). */
  readonly serviceCredsFile: string;
  /** Text of the core services' creds file, for `credsAuthenticator`. */
  readonly serviceCreds: string;
  /** Path of the registry's system-account creds file (`VIVIFIED_NATS_SYSTEM_CREDS`). */
  readonly systemCredsFile: string;
  /** Every variable the setup writes to `registry.env`, including `VIVIFIED_NATS_URL`. */
  readonly env: Readonly<Record<string, string>>;
}

interface SetupSummary {
  accountPublicKey: string;
}

function parseEnvFile(content: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of content.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) {
      values[match[1]] = match[2];
    }
  }

  return values;
}

/**
 * Runs the production setup tool in a temporary folder and starts a nats-server with its config: trusted
 * operator, system account, full resolver preloaded with the account JWTs, JetStream enabled for the account.
 * Clients connect with creds only: the services' (`serviceCreds`) or users signed with `accountSigningSeed`.
 */
export async function startNatsOperatorServer(
  options: Omit<NatsServerOptions, 'args'> = {},
): Promise<TestNatsOperatorServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vivified-nats-operator-'));
  try {
    const { stdout } = await run(process.execPath, [
      SETUP_SCRIPT,
      '--out',
      dir,
      '--listen',
      '127.0.0.1:4222',
      // startNatsServer gives the store folder with -sd
      '--store-dir',
      '-',
      '--json',
    ]);
    const summary = JSON.parse(stdout) as SetupSummary;
    const env = parseEnvFile(await readFile(join(dir, 'registry.env'), 'utf8'));
    const serviceCredsFile = join(dir, 'service.creds');
    const serviceCreds = await readFile(serviceCredsFile, 'utf8');
    // the command line's -a and -p win over the config's listen
    const server = await startNatsServer({ ...options, args: ['-c', join(dir, 'nats-server.conf')] });
    const required = (name: string): string => {
      const value = env[name];
      if (!value) {
        throw new Error(`nats-setup wrote no ${name}`);
      }

      return value;
    };

    return {
      ...server,
      dir,
      accountPublicKey: summary.accountPublicKey,
      accountSigningSeed: required('VIVIFIED_NATS_ACCOUNT_SIGNING_SEED'),
      operatorSigningSeed: required('VIVIFIED_NATS_OPERATOR_SIGNING_SEED'),
      serviceCredsFile,
      serviceCreds,
      systemCredsFile: required('VIVIFIED_NATS_SYSTEM_CREDS'),
      env: { ...env, VIVIFIED_NATS_URL: server.url },
      stop: async () => {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
