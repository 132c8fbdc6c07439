// `npm start` (ARCHITECTURE §9, a contract): the whole platform on this machine. Installs dependencies when
// needed, builds, finds or starts NATS (JetStream) and PostgreSQL, runs the six services with prefixed logs,
// waits for their /health and prints where everything is. Ctrl-C stops the services, then what it started.
// Only node: builtins are imported statically: this runs before the dependencies are installed.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { ensureDependencies } from './lib/dependencies.mjs';
import { ensureNats } from './lib/nats.mjs';
import { box, paint, say } from './lib/output.mjs';
import { ensurePostgres, redactUrl } from './lib/postgres.mjs';
import {
  describeExit,
  isRunning,
  killGroup,
  runCommand,
  stopForeground,
  stopProcess,
} from './lib/processes.mjs';
import {
  gatewayUrl,
  preflight,
  serviceDefinitions,
  startService,
  waitUntilHealthy,
} from './lib/services.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const usage = `Usage: npm start [-- options]

Runs the whole Vivified platform on this machine.

Options:
  --no-install   do not run npm ci, even when node_modules is missing or older than package-lock.json
  --no-build     do not run npm run build (use the dist/ folders as they are)
  --infra-only   only find or start NATS and PostgreSQL, not the services
  -h, --help     show this help

Environment (besides the services' own VIVIFIED_* variables, which are passed through):
  VIVIFIED_START_NATS_PORT=4222          port of the local NATS to use or start (without VIVIFIED_NATS_URL)
  VIVIFIED_START_NATS_MONITOR_PORT=8222  monitoring port of the nats-server npm start runs
  VIVIFIED_START_PG_PORT=5432            port of the local PostgreSQL to use or start (without VIVIFIED_DATABASE_URL)
  VIVIFIED_START_FORCE_OWN_NATS=1        always run our own nats-server (fails if its port is taken)
  VIVIFIED_START_FORCE_EMBEDDED_PG=1     always run the embedded PostgreSQL (fails if its port is taken)
  VIVIFIED_START_TIMEOUT_MS=60000        how long the services have to report healthy
  NATS_SERVER_BIN                        the nats-server binary (default /usr/sbin/nats-server, then the PATH)
`;

/** Everything start.mjs runs, so a signal or a failure can stop it in order. */
const state = {
  stopping: false,
  stoppingSince: 0,
  ready: false,
  infra: [],
  services: [],
  firstAdmin: undefined,
};

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'no-install': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'infra-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });

  return {
    install: !values['no-install'],
    build: !values['no-build'],
    infraOnly: values['infra-only'],
    help: values.help,
  };
}

/** Stops the services (SIGTERM, then SIGKILL after 10 s), then the NATS and PostgreSQL we started, and exits. */
async function shutdown(code) {
  if (state.stopping) {
    return;
  }
  state.stopping = true;
  state.stoppingSince = Date.now();
  stopForeground();
  const running = state.services.filter((service) => isRunning(service.child));
  if (running.length > 0) {
    say.info(`stopping ${running.map((service) => service.name).join(', ')}`);
  }
  await Promise.all(
    running.map(async (service) => {
      if (!(await stopProcess(service.child, { timeoutMs: 10_000 }))) {
        say.warn(`${service.name} did not stop within 10 s: killed it`);
      }
    }),
  );
  for (const infra of [...state.infra].reverse()) {
    if (infra.started) {
      say.info(`stopping ${infra.name}`);
      await infra.stop();
    }
  }
  say.ok(code === 0 ? 'stopped' : 'stopped after the failure above');
  process.exit(code);
}

function onSignal(signal) {
  if (state.stopping) {
    // A second Ctrl-C stops the waiting; one within a second is the same keypress delivered twice.
    if (Date.now() - state.stoppingSince < 1_000) {
      return;
    }
    say.warn(`${signal} again: killing the services`);
    for (const service of state.services) {
      killGroup(service.child, 'SIGKILL');
    }

    return;
  }
  process.stdout.write('\n');
  say.info(`${signal}: shutting down`);
  void shutdown(0);
}

function installSignalHandlers() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, onSignal);
  }
  process.on('unhandledRejection', (error) => {
    say.error(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void shutdown(1);
  });
}

/** Reports NATS or PostgreSQL going away while we run. */
function onInfraExit({ name, code, signal, tail }) {
  if (!state.stopping) {
    say.error(
      `${name} ${describeExit({ code, signal })}; the services lose it. Its last lines:\n${tail.text()}`,
    );
  }
}

/** Reports a service that exited; once every service is gone, there is nothing left to run. */
function onServiceExit(service, code, signal) {
  if (state.stopping) {
    return;
  }
  const when = state.ready ? '' : ' during startup';
  say.error(`${service.name} ${describeExit({ code, signal })}${when}. Its last lines:`);
  process.stderr.write(`${service.tail.text(service.print.format)}\n`);
  if (state.ready && state.services.every((other) => !isRunning(other.child))) {
    say.error('every service has stopped');
    void shutdown(1);
  }
}

async function build() {
  say.info('building: npm run build');
  const code = await runCommand('npm', ['run', 'build'], { cwd: root });
  if (code !== 0) {
    say.error(`the build failed (exit code ${code})`);
  }

  return code === 0;
}

/** Finds or starts NATS and PostgreSQL; resolves the environment the services run with. */
async function startInfrastructure() {
  mkdirSync(join(root, '.vivified', 'logs'), { recursive: true });
  const env = { ...process.env };
  const nats = await ensureNats({ root, env, onExit: onInfraExit });
  state.infra.push({ name: 'nats-server', ...nats });
  env.VIVIFIED_NATS_URL = nats.url;
  if (state.stopping) {
    return undefined;
  }
  const postgres = await ensurePostgres({ root, env, onExit: onInfraExit });
  state.infra.push({ name: 'PostgreSQL', ...postgres });
  env.VIVIFIED_DATABASE_URL = postgres.url;
  env.VIVIFIED_SERVICE_SECRET = serviceSecret(env);

  return { env, nats, postgres };
}

/** Checks, before NATS and PostgreSQL are touched, that the services are built and their ports free. */
async function servicesCanStart() {
  const problems = await preflight(serviceDefinitions(root, process.env), process.env);
  for (const problem of problems) {
    say.error(problem);
  }

  return problems.length === 0;
}

/** Starts the six services and waits for their /health; resolves false when one is not ready in time. */
async function startServices(env) {
  const definitions = serviceDefinitions(root, env);
  const width = Math.max(...definitions.map((service) => service.name.length));
  for (const [index, definition] of definitions.entries()) {
    const service = startService({ root, env, service: definition, index, width, onSecret: onOneTimeSecret });
    service.child.once('exit', (code, signal) => onServiceExit(service, code, signal));
    state.services.push(service);
  }
  const timeoutMs = Number(env.VIVIFIED_START_TIMEOUT_MS || 60_000);
  say.info(`started ${definitions.length} services; waiting up to ${timeoutMs / 1000} s for their /health`);
  const notReady = await waitUntilHealthy(state.services, {
    timeoutMs,
    isAborted: () => state.stopping,
    onReady: (service, ms) => say.ok(`${service.name} is ready (${(ms / 1000).toFixed(1)} s)`),
  });
  if (notReady.length === 0 || state.stopping) {
    return true;
  }
  const dead = notReady.filter((service) => !isRunning(service.child));
  if (dead.length > 0) {
    say.error(`startup failed: ${dead.map((service) => service.name).join(', ')} exited (see above)`);

    return false;
  }
  say.error(`not ready within ${timeoutMs / 1000} s:`);
  for (const service of notReady) {
    say.error(`${service.name}: GET ${service.healthUrl} → ${service.lastHealth}`);
  }

  return false;
}

/** Identity prints the first admin's one-time password once, on a line of its own; it is shown in the summary. */
function onOneTimeSecret(text) {
  try {
    const secret = JSON.parse(text);
    if (secret.kind === 'first-admin' && typeof secret.password === 'string') {
      state.firstAdmin = { username: String(secret.username), password: secret.password };
    }
  } catch {
    say.warn('a service printed a one-time secret npm start could not read');
  }
}

function adminLines(env) {
  const username = env.VIVIFIED_ADMIN_USERNAME || 'admin';
  if (env.VIVIFIED_ADMIN_PASSWORD) {
    return [
      `${username} / the password in VIVIFIED_ADMIN_PASSWORD`,
      'then enrol an authenticator app (TOTP)',
    ];
  }
  if (state.firstAdmin) {
    return [
      `${state.firstAdmin.username} / ${paint('bold', state.firstAdmin.password)}`,
      'one-time password, shown only now: log in, change it, then enrol TOTP',
    ];
  }

  return [`${username} / created on an earlier start (its one-time password was shown then)`];
}

/** The secret the core services exchange for service tokens: VIVIFIED_SERVICE_SECRET, else one kept in .vivified. */
function serviceSecret(env) {
  if (env.VIVIFIED_SERVICE_SECRET) {
    return env.VIVIFIED_SERVICE_SECRET;
  }
  const file = join(root, '.vivified', 'service-secret');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }

  return readFileSync(file, 'utf8').trim();
}

function printSummary({ env, nats, postgres }) {
  const origin = (started) => paint('dim', started ? '(started by npm start)' : '(already running)');
  const lines = [
    paint('bold', state.services.length > 0 ? 'Vivified is running' : 'NATS and PostgreSQL are running'),
    '',
  ];
  if (state.services.length > 0) {
    const width = Math.max(...state.services.map((service) => service.name.length));
    lines.push(`${'Console and API'.padEnd(16)} ${paint('bold', gatewayUrl(env))}`);
    for (const [index, line] of adminLines(env).entries()) {
      lines.push(`${(index === 0 ? 'Admin login' : '').padEnd(16)} ${line}`);
    }
    lines.push('');
    for (const service of state.services) {
      lines.push(`${service.name.padEnd(width)}  ${service.healthUrl}  ${paint('dim', service.metricsUrl)}`);
    }
    lines.push('');
  }
  const monitoring = nats.monitorUrl ? `monitoring ${nats.monitorUrl}` : 'no monitoring found';
  lines.push(`${'NATS'.padEnd(11)} ${nats.url}  ${monitoring}  ${origin(nats.started)}`);
  lines.push(`${'PostgreSQL'.padEnd(11)} ${redactUrl(postgres.url)}  ${origin(postgres.started)}`);
  const startedAny = state.services.length > 0 || state.infra.some((infra) => infra.started);
  if (startedAny) {
    lines.push(`${'Logs'.padEnd(11)} .vivified/logs/<name>.log`);
  }
  lines.push(
    '',
    startedAny ? 'Ctrl-C stops everything npm start started.' : 'npm start started nothing: exiting.',
  );
  box(lines);
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(usage);

    return;
  }
  installSignalHandlers();
  const steps = [
    () => !options.install || ensureDependencies(root),
    () => !options.build || build(),
    () => options.infraOnly || servicesCanStart(),
  ];
  for (const step of steps) {
    if (!(await step()) || state.stopping) {
      return shutdown(1);
    }
  }
  const infrastructure = await startInfrastructure();
  if (!infrastructure || state.stopping) {
    return;
  }
  if (!options.infraOnly && !(await startServices(infrastructure.env))) {
    return shutdown(1);
  }
  if (state.stopping) {
    return;
  }
  state.ready = true;
  printSummary(infrastructure);
  if (state.services.length > 0 || state.infra.some((infra) => infra.started)) {
    // Servers adopted from an earlier run are not our children; stay up until a signal all the same.
    setInterval(() => undefined, 60_000);
  }
}

main().catch((error) => {
  if (String(error?.code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${error.message}\n\n${usage}`);
    process.exit(2);
  }
  say.error(error instanceof Error ? error.message : String(error));
  void shutdown(1);
});
