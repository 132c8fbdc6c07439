import type { AuditVerifyReply } from '@vivified/contracts';
import { env, parseConfig } from '@vivified/service-kit';
import { Pool } from 'pg';

import { AuditRepository } from './store/audit.repository';
import { verifyChain } from './verify/chain-verifier';

const cliConfigSchema = {
  databaseUrl: env.url('VIVIFIED_DATABASE_URL', {
    default: 'postgres://postgres@127.0.0.1:5432/vivified',
    protocols: ['postgres:', 'postgresql:'],
    secret: true,
    description: 'PostgreSQL holding the audit schema',
  }),
} as const;

const USAGE = 'usage: node apps/audit/dist/cli.js verify [--from <seq>] [--to <seq>]';

/** Where the CLI writes. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

function seqArg(args: string[], name: string): number | undefined {
  const index = args.indexOf(name);
  if (index < 0) {
    return undefined;
  }
  const value = Number(args[index + 1]);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} needs a positive integer`);
  }

  return value;
}

/**
 * `verify [--from seq] [--to seq]`: checks the chain and the checkpoints straight in PostgreSQL with the same code
 * the service runs, prints the result as JSON and exits 0 when intact, 1 when broken, 2 on a usage error.
 */
export async function runCli(
  argv: readonly string[],
  environment: Readonly<Record<string, string | undefined>>,
  io: CliIo,
): Promise<number> {
  const [command, ...args] = argv;
  if (command !== 'verify') {
    io.err(USAGE);

    return 2;
  }
  let range: { fromSeq?: number; toSeq?: number };
  try {
    const fromSeq = seqArg(args, '--from');
    const toSeq = seqArg(args, '--to');
    range = { ...(fromSeq ? { fromSeq } : {}), ...(toSeq ? { toSeq } : {}) };
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);

    return 2;
  }
  const config = parseConfig(cliConfigSchema, environment);
  const pool = new Pool({
    connectionString: config.databaseUrl,
    max: 2,
    options: '-c search_path=audit,public',
  });
  try {
    const result: AuditVerifyReply = await verifyChain(new AuditRepository(pool), range);
    io.out(JSON.stringify(result, null, 2));
    if (!result.ok) {
      const row = result.firstBrokenRow;
      io.err(row ? `first broken row: seq ${row.seq} (${row.reason})` : 'a checkpoint is broken');
    }

    return result.ok ? 0 : 1;
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), process.env, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
