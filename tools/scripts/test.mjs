// `npm test` (ARCHITECTURE §9, a contract): builds (the whole-platform tests run the compiled services), then
// runs every vitest project. Extra arguments go to vitest: `npm test -- --project unit`, `npm test -- subjects`.
// Exits with vitest's exit code.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { isPortOpen } from './lib/network.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = performance.now();

/** The child running now; SIGTERM sent to us (a CI timeout) is passed on to it. */
let current;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  // Ctrl-C reaches the child through the terminal; we only wait for it to finish and report its code.
  process.on(signal, () => {
    if (signal !== 'SIGINT') {
      current?.kill(signal);
    }
  });
}

function run(command, args) {
  return new Promise((resolve) => {
    current = spawn(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
    current.on('error', (error) => {
      process.stderr.write(`${command}: ${error.message}\n`);
      resolve(127);
    });
    current.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function elapsed() {
  const seconds = (performance.now() - started) / 1000;

  return seconds < 60
    ? `${seconds.toFixed(1)} s`
    : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** The integration tests need PostgreSQL; say so up front instead of in a hundred failures. */
async function warnWithoutPostgres() {
  const url = new URL(
    process.env.VIVIFIED_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  );
  if (!(await isPortOpen(url.hostname, Number(url.port || 5432)))) {
    process.stderr.write(
      `npm test: nothing answers at ${url.host}; integration tests need PostgreSQL there ` +
        '(or set VIVIFIED_TEST_DATABASE_URL).\n',
    );
  }
}

await warnWithoutPostgres();
const buildCode = await run('npm', ['run', 'build']);
if (buildCode !== 0) {
  process.stderr.write(`npm test: the build failed (exit code ${buildCode}) after ${elapsed()}\n`);
  process.exit(buildCode);
}
const code = await run('npx', ['--no', 'vitest', 'run', ...process.argv.slice(2)]);
process.stderr.write(`npm test: ${code === 0 ? 'passed' : `failed (exit code ${code})`} in ${elapsed()}\n`);
process.exit(code);
