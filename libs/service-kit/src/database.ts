import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { PoolClient } from 'pg';
import { Client, Pool } from 'pg';

import type { ReadinessCheck } from './ops-server';

/** The subset of the logger the database helpers use. */
export interface DatabaseLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** A schema name we accept: unquoted PostgreSQL identifier style, so it is safe in SQL text. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A migration file name: `0001_create_users.sql`. */
const MIGRATION_FILE = /^(\d{4})_([a-z0-9][a-z0-9_-]*)\.sql$/;

function assertSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new RangeError(
      `invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`,
    );
  }

  return schema;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A connection string with the password removed, for logs: `postgres://app@db:5432/vivified`. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.search = '';

    return parsed.toString();
  } catch {
    return '<unparseable database url>';
  }
}

/** Removes `user:password@` from any URL inside a text (error messages may quote connection strings). */
export function scrubCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@\s]*@/gi, '$1:***@');
}

/** Options of {@link createPool}. */
export interface CreatePoolOptions {
  /** Connection string. */
  url: string;
  /** The service's schema; unqualified names resolve there first (`search_path = <schema>, public`). */
  schema: string;
  /** Shown in `pg_stat_activity` (the service name). */
  applicationName: string;
  /** Largest number of connections. @default 10 */
  max?: number;
  /** A statement running longer is cancelled by the server. @default 30000 */
  statementTimeoutMs?: number;
  /** How long to wait for a connection from the server. @default 5000 */
  connectionTimeoutMs?: number;
  /** Where errors of idle connections are reported (without it they would crash the process). */
  logger?: DatabaseLogger;
}

/** A `pg` pool for one service schema. */
export function createPool(options: CreatePoolOptions): Pool {
  const schema = assertSchema(options.schema);
  const pool = new Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    options: `-c search_path=${schema},public`,
  });
  pool.on('error', (error: Error & { code?: string }) => {
    options.logger?.warn(
      { err: { code: error.code, message: scrubCredentials(error.message) } },
      'idle database connection failed',
    );
  });

  return pool;
}

/** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let healthy = true;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');

    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      healthy = false;
    });
    throw error;
  } finally {
    // a connection whose rollback failed may be mid-transaction: destroy it rather than reuse it
    client.release(!healthy);
  }
}

/** A readiness check that runs `select 1` on the pool. */
export function postgresReadinessCheck(pool: Pool): ReadinessCheck {
  return async () => {
    await pool.query('select 1');

    return { ok: true };
  };
}

/** Thrown when migrations cannot be applied; the app must not start. */
export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

/** Reads `NNNN_name.sql` files of a folder in version order; any other `.sql` file or a repeated version is an error. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = MIGRATION_FILE.exec(file);
    if (!match?.[1] || !match[2]) {
      throw new MigrationError(`migration file ${file} is not named NNNN_name.sql`);
    }
    const version = Number(match[1]);
    if (migrations.some((migration) => migration.version === version)) {
      throw new MigrationError(`two migration files have version ${match[1]}`);
    }
    // Line endings are normalized so a checkout with CRLF does not look like a changed migration.
    const sql = (await readFile(join(dir, file), 'utf8')).replace(/\r\n/g, '\n');
    const checksum = createHash('sha256').update(sql).digest('hex');
    migrations.push({ version, name: match[2], file, sql, checksum });
  }

  return migrations;
}

/** Options of {@link runMigrations}. */
export interface MigrationOptions {
  /** The service's schema; created when missing. */
  schema: string;
  /** Folder of `NNNN_name.sql` files. */
  dir: string;
  /** Where each applied migration is reported. */
  logger?: DatabaseLogger;
}

/** A session-level advisory lock key per schema, as a signed 64-bit integer. */
function lockKey(schema: string): string {
  return createHash('sha256').update(`vivified:migrations:${schema}`).digest().readBigInt64BE(0).toString();
}

async function applyPending(
  client: PoolClient,
  schema: string,
  migrations: Migration[],
  logger?: DatabaseLogger,
) {
  const table = `${quoteIdentifier(schema)}.schema_migrations`;
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${table} (
       version integer PRIMARY KEY,
       name text NOT NULL,
       checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const { rows } = await client.query<{ version: number; checksum: string }>(
    `SELECT version, checksum FROM ${table}`,
  );
  const applied = new Map(rows.map((row) => [row.version, row.checksum]));
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined && checksum !== migration.checksum) {
      throw new MigrationError(
        `migration ${migration.file} was changed after it was applied to schema ${schema}`,
      );
    }
  }
  const done: string[] = [];
  for (const migration of migrations.filter((candidate) => !applied.has(candidate.version))) {
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL search_path TO ${quoteIdentifier(schema)}, public`);
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${table} (version, name, checksum) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new MigrationError(`migration ${migration.file} failed in schema ${schema}`, { cause: error });
    }
    logger?.info({ schema, migration: migration.file }, 'migration applied');
    done.push(migration.file);
  }

  return done;
}

/**
 * Applies the pending migrations of a folder to a schema, each in its own transaction, and records them in
 * `<schema>.schema_migrations` with a checksum. An applied migration whose file changed is an error. An
 * advisory lock makes replicas starting together apply each migration once. A migration that cannot run in a
 * transaction (`CREATE INDEX CONCURRENTLY`) is not supported. Resolves the files applied by this call.
 */
export async function runMigrations(pool: Pool, options: MigrationOptions): Promise<string[]> {
  const schema = assertSchema(options.schema);
  const migrations = await readMigrations(options.dir);
  const client = await pool.connect();
  const key = lockKey(schema);
  let healthy = true;
  try {
    // Waiting for another replica's lock, or a long migration, must not hit the pool's statement timeout.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    try {
      return await applyPending(client, schema, migrations, options.logger);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
      await client.query('RESET statement_timeout');
    }
  } catch (error) {
    healthy = false;
    throw error;
  } finally {
    // A connection that failed mid-way may still hold the lock or settings: destroy it rather than reuse it.
    client.release(!healthy);
  }
}

/**
 * Creates the database of a connection string when it is missing, by connecting to the `postgres`
 * maintenance database of the same server. Resolves whether it created it. Two services racing to create it
 * is fine: the loser's duplicate error (42P04, or 23505 from the catalog index) is ignored.
 */
export async function ensureDatabase(url: string, logger?: DatabaseLogger): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (name === '' || name === 'postgres') {
    return false;
  }
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) {
      return false;
    }
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    logger?.info({ database: name }, 'database created');

    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === '42P04' || code === '23505') {
      return false;
    }
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Options of {@link connectWithRetry}. */
export interface RetryOptions {
  /** What is being reached, for logs; never a secret (use {@link describeDatabaseUrl}). */
  what: string;
  /** Where each failure is reported. */
  logger: Pick<DatabaseLogger, 'warn'>;
  /** Stops retrying; the only way it gives up. */
  signal?: AbortSignal;
  /** First delay. @default 200 */
  initialDelayMs?: number;
  /** Largest delay. @default 5000 */
  maxDelayMs?: number;
}

/** Thrown by {@link connectWithRetry} when its signal aborts; `cause` is the last failure. */
export class RetryAbortedError extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`gave up reaching ${what}: aborted`, options);
    this.name = 'RetryAbortedError';
  }
}

/**
 * Calls `attempt` until it resolves, waiting between failures with exponential backoff and jitter (half the
 * delay fixed, half random; capped at `maxDelayMs`). Each failure is logged with its code and a message
 * scrubbed of credentials. Gives up only when the signal aborts. Use it for `ensureDatabase` and a first
 * `select 1` at start, so a service waits for PostgreSQL instead of crashing.
 */
export async function connectWithRetry<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const initial = options.initialDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5_000;
  let lastError: unknown;
  for (let count = 1; ; count++) {
    if (options.signal?.aborted) {
      throw new RetryAbortedError(options.what, { cause: lastError });
    }
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
    }
    const ceiling = Math.min(max, initial * 2 ** Math.min(count - 1, 30));
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    const failure = lastError as { code?: unknown; message?: unknown };
    options.logger.warn(
      {
        target: options.what,
        attempt: count,
        retryInMs: delay,
        err: { code: failure?.code, message: scrubCredentials(String(failure?.message ?? lastError)) },
      },
      `${options.what} unreachable, retrying`,
    );
    try {
      await sleep(delay, undefined, { signal: options.signal });
    } catch {
      throw new RetryAbortedError(options.what, { cause: lastError });
    }
  }
}
