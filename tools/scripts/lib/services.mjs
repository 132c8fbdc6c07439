// Steps (e) and (f) of `npm start`: the six services as child processes, their logs, and their /health.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { httpGet, isPortOpen, sleep } from './network.mjs';
import { prefixer } from './output.mjs';
import { Tail, followOutput, isRunning, track } from './processes.mjs';

/** The services in start order, with their default ops ports (ARCHITECTURE §9). */
const serviceTable = [
  ['identity', 9101],
  ['policy', 9102],
  ['registry', 9103],
  ['audit', 9104],
  ['event-router', 9105],
  ['gateway', 9106],
];

/** The ops-port variable of a service: `VIVIFIED_EVENT_ROUTER_OPS_PORT` for `event-router`. */
export function opsPortEnv(name) {
  return `VIVIFIED_${name.toUpperCase().replaceAll('-', '_')}_OPS_PORT`;
}

function portFrom(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') {
    return fallback;
  }
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`${name} must be a port number, not ${JSON.stringify(raw)}`);
  }

  return port;
}

/** The host to reach a listener bound to `VIVIFIED_HTTP_HOST` from this machine. */
export function localHost(env) {
  const host = env.VIVIFIED_HTTP_HOST?.trim();
  if (!host || host === '0.0.0.0' || host === '::') {
    return '127.0.0.1';
  }

  return host.includes(':') ? `[${host}]` : host;
}

/** Each service's name, entry file, ops port and URLs, with the env overrides applied. */
export function serviceDefinitions(root, env) {
  const host = localHost(env);

  return serviceTable.map(([name, defaultPort]) => {
    const opsPort = portFrom(env, opsPortEnv(name), defaultPort);

    return {
      name,
      entry: join(root, 'apps', name, 'dist', 'main.js'),
      opsPort,
      healthUrl: `http://${host}:${opsPort}/health`,
      metricsUrl: `http://${host}:${opsPort}/metrics`,
    };
  });
}

function gatewayPort(env) {
  return portFrom(env, 'VIVIFIED_GATEWAY_HTTP_PORT', 8080);
}

/** The gateway's HTTP API and console URL. */
export function gatewayUrl(env) {
  return `http://${localHost(env)}:${gatewayPort(env)}`;
}

/** Problems that would stop the services from starting: a missing build output, a port already taken. */
export async function preflight(definitions, env) {
  const problems = [];
  const missing = definitions.filter((service) => !existsSync(service.entry));
  if (missing.length > 0) {
    problems.push(
      `not built: ${missing.map((service) => `apps/${service.name}/dist/main.js`).join(', ')} ` +
        '(run npm run build; each app must be referenced in tsconfig.build.json)',
    );
  }
  const host = localHost(env).replace(/^\[(.*)\]$/, '$1');
  const ports = [
    ...definitions.map((service) => [service.opsPort, `${service.name} ops port`]),
    [gatewayPort(env), 'gateway HTTP port'],
  ];
  for (const [port, what] of ports) {
    if (await isPortOpen(host, port, 500)) {
      problems.push(`port ${port} (${what}) is already in use: is another npm start running?`);
    }
  }

  return problems;
}

/**
 * Node flags every service runs with (the Dockerfile sets the same in NODE_OPTIONS): source maps for stack traces,
 * and a 32 MiB young generation — the services allocate many short-lived objects per message, and the default
 * semi-space made garbage collection 10–13 % of a busy service's CPU (docs/benchmarks.md).
 */
export const SERVICE_NODE_FLAGS = ['--enable-source-maps', '--max-semi-space-size=32'];

/** Starts one service; its output goes to the console (prefixed) and to .vivified/logs/<name>.log. */
export function startService({ root, env, service, index, width, onSecret }) {
  const print = prefixer(service.name, index, width);
  // detached: its own process group, so Ctrl-C reaches only start.mjs, which stops services before infra.
  const child = track(
    spawn(process.execPath, [...SERVICE_NODE_FLAGS, service.entry], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const tail = new Tail(20);
  followOutput(child, {
    tail,
    logFile: join(root, '.vivified', 'logs', `${service.name}.log`),
    onLine: (line, stream) => (stream === 'stderr' ? print.err(line) : print.out(line)),
    onSecret,
  });

  return { ...service, child, tail, print, lastHealth: 'no answer yet' };
}

/**
 * Polls `/health` of every running service until each answers 200, one exits, or `timeoutMs` passes.
 * Resolves the services that are not ready (empty when all are); `onReady(service, ms)` is told each success.
 */
export async function waitUntilHealthy(running, { timeoutMs, onReady, isAborted }) {
  const started = Date.now();
  const pending = new Set(running);
  while (pending.size > 0 && Date.now() - started < timeoutMs && !isAborted()) {
    await Promise.all(
      [...pending].map(async (service) => {
        if (!isRunning(service.child)) {
          return;
        }
        try {
          const { status, body } = await httpGet(service.healthUrl, 2_000);
          service.lastHealth = `HTTP ${status} ${body.trim()}`;
          if (status === 200) {
            pending.delete(service);
            onReady(service, Date.now() - started);
          }
        } catch (error) {
          service.lastHealth = error.message;
        }
      }),
    );
    if ([...pending].some((service) => !isRunning(service.child))) {
      break;
    }
    await sleep(500);
  }

  return [...pending];
}
