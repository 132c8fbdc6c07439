// Step (c) of `npm start`: a NATS server with JetStream — the one already listening, or our own nats-server.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { httpGet, isLoopback, isPortOpen, sleep } from './network.mjs';
import { say } from './output.mjs';
import { Tail, describeExit, followOutput, isRunning, stopProcess, track } from './processes.mjs';

/** Where NATS is expected: `VIVIFIED_NATS_URL` (its first server) or 127.0.0.1 on `VIVIFIED_START_NATS_PORT`. */
export function natsTarget(env) {
  const configured = env.VIVIFIED_NATS_URL?.split(',')[0]?.trim();
  if (configured) {
    const url = new URL(configured);

    return {
      url: configured,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 4222),
      configured: true,
    };
  }
  const port = Number(env.VIVIFIED_START_NATS_PORT || 4222);

  return { url: `nats://127.0.0.1:${port}`, host: '127.0.0.1', port, configured: false };
}

/** The nats-server binary: `NATS_SERVER_BIN`, the machine's /usr/sbin one, or the PATH's. */
export function natsServerBinary(env) {
  return (
    env.NATS_SERVER_BIN || (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server')
  );
}

/**
 * Connects with nats.js and asks for the JetStream account info; throws a readable error when the server
 * cannot be used (JetStream off, authorization needed). `nats` is imported here, after the install step.
 */
export async function checkJetStream(url) {
  let nats;
  try {
    nats = await import('nats');
  } catch {
    throw new Error("the 'nats' package is not installed: run npm ci (or start without --no-install)");
  }
  let nc;
  try {
    nc = await nats.connect({ servers: url, name: 'vivified-start', timeout: 5_000, reconnect: false });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${url}: ${error.message}`, { cause: error });
  }
  try {
    const jsm = await nc.jetstreamManager({ timeout: 5_000 });
    await jsm.getAccountInfo();
  } catch (error) {
    throw new Error(
      `NATS at ${url} answers, but JetStream is not enabled (${error.message}). ` +
        'Restart that server with -js (and a store directory, -sd), or stop it so npm start runs its own.',
      { cause: error },
    );
  } finally {
    await nc.close();
  }
}

/** The monitoring URL of a NATS server we did not start, when it serves one on the usual port. */
async function findMonitoring(host, port) {
  const url = `http://${host === '::1' ? '[::1]' : host}:${port}`;
  try {
    const { status } = await httpGet(`${url}/healthz`, 1_000);

    return status === 200 ? url : undefined;
  } catch {
    return undefined;
  }
}

function pidFile(root) {
  return join(root, '.vivified', 'nats', 'nats-server.pid');
}

/**
 * The pid of a nats-server an earlier `npm start` left running (it was killed before it could stop it), so
 * this run stops it at the end; undefined when there is none.
 */
function leftoverNatsServer(root, port) {
  try {
    const pid = Number(readFileSync(pidFile(root), 'utf8').trim());
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const ours =
      args.includes(join(root, '.vivified', 'nats')) && args[args.indexOf('-p') + 1] === String(port);

    return ours ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops a nats-server we did not spawn in this run, waiting up to 10 s. */
async function stopPid(pid) {
  try {
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; waited < 10_000; waited += 100) {
      process.kill(pid, 0);
      await sleep(100);
    }
  } catch {
    // Gone.
  }
}

/** Waits up to 15 s for our nats-server to accept connections; throws when it fails or exits first. */
async function waitUntilListening(child, port, tail, spawnFailure) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (spawnFailure()) {
      throw new Error(spawnFailure());
    }
    if (!isRunning(child)) {
      const how = describeExit({ code: child.exitCode, signal: child.signalCode });
      throw new Error(`nats-server ${how} before it was ready:\n${tail.text()}`);
    }
    if (await isPortOpen('127.0.0.1', port, 500)) {
      return;
    }
    await sleep(100);
  }
  throw new Error(`nats-server did not accept connections on port ${port} within 15 s:\n${tail.text()}`);
}

/** Spawns nats-server with JetStream on 127.0.0.1 and waits until it accepts connections. */
async function startNatsServer({ root, env, port, onExit }) {
  const monitorPort = Number(env.VIVIFIED_START_NATS_MONITOR_PORT || 8222);
  const storeDir = join(root, '.vivified', 'nats');
  mkdirSync(storeDir, { recursive: true });
  const binary = natsServerBinary(env);
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-m', String(monitorPort)];
  args.push('-P', pidFile(root));
  say.info(`starting ${binary} ${args.join(' ')}`);
  // detached: its own process group, so the terminal's Ctrl-C reaches only us and we stop it after the services.
  const child = track(spawn(binary, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
  const tail = new Tail();
  followOutput(child, { tail, logFile: join(root, '.vivified', 'logs', 'nats-server.log') });
  let spawnFailure;
  child.once('error', (error) => {
    spawnFailure =
      error.code === 'ENOENT'
        ? `${binary} not found: install nats-server (https://docs.nats.io/running-a-nats-service/introduction/installation), put it on the PATH or set NATS_SERVER_BIN`
        : `cannot run ${binary}: ${error.message}`;
  });
  try {
    await waitUntilListening(child, port, tail, () => spawnFailure);
  } catch (error) {
    await stopProcess(child, { timeoutMs: 2_000 });
    throw error;
  }
  child.once('exit', (code, signal) => onExit({ name: 'nats-server', code, signal, tail }));

  return {
    child,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    stop: () => stopProcess(child, { timeoutMs: 10_000 }),
  };
}

/**
 * Finds or starts NATS. Resolves `{ url, monitorUrl, started, stop }`; throws a readable error when neither
 * works. `VIVIFIED_START_FORCE_OWN_NATS=1` skips the probe (and fails if the port is taken).
 */
export async function ensureNats({ root, env, onExit }) {
  const target = natsTarget(env);
  const force = env.VIVIFIED_START_FORCE_OWN_NATS === '1';
  const leftover = target.configured ? undefined : leftoverNatsServer(root, target.port);
  if ((!force || leftover) && (await isPortOpen(target.host, target.port))) {
    await checkJetStream(target.url);
    if (leftover) {
      say.warn(`the nats-server of an earlier npm start is still running (pid ${leftover}): using it`);
    } else {
      say.ok(`NATS at ${target.url} has JetStream: using it`);
    }

    return {
      url: target.url,
      monitorUrl: await findMonitoring(target.host, Number(env.VIVIFIED_START_NATS_MONITOR_PORT || 8222)),
      started: leftover !== undefined,
      stop: async () => (leftover ? stopPid(leftover) : undefined),
    };
  }
  if (!isLoopback(target.host)) {
    throw new Error(`NATS at ${target.url} (VIVIFIED_NATS_URL) does not accept connections`);
  }
  if (force && (await isPortOpen(target.host, target.port))) {
    throw new Error(`VIVIFIED_START_FORCE_OWN_NATS=1, but port ${target.port} is already in use`);
  }
  const own = await startNatsServer({ root, env, port: target.port, onExit });
  try {
    await checkJetStream(target.url);
  } catch (error) {
    await own.stop();
    throw error;
  }
  say.ok(`nats-server with JetStream is up at ${target.url} (store .vivified/nats)`);

  return { url: target.url, monitorUrl: own.monitorUrl, started: true, stop: own.stop };
}
