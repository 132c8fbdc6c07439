// Child processes of `npm start`: foreground commands (npm ci, the build) and long-running children
// (nats-server, the embedded PostgreSQL, the services), their output and how they are stopped.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** The foreground command running now, so a signal can stop it. */
let foreground;

/** Long-running children, signalled when start.mjs exits for any reason so none is left behind. */
const tracked = new Set();

/** Registers a long-running child; on exit of this process, any still running gets SIGTERM. */
export function track(child) {
  if (tracked.size === 0) {
    process.once('exit', () => {
      for (const running of tracked) {
        if (isRunning(running)) {
          running.kill('SIGTERM');
        }
      }
    });
  }
  tracked.add(child);
  child.once('exit', () => tracked.delete(child));

  return child;
}

/** Runs a command with the terminal attached and resolves its exit code (1 when killed by a signal). */
export function runCommand(command, args, options = {}) {
  return new Promise((resolve) => {
    // npm is npm.cmd on Windows, which only a shell runs.
    const child = spawn(command, args, { stdio: 'inherit', shell: process.platform === 'win32', ...options });
    foreground = child;
    child.on('error', (error) => {
      process.stderr.write(`${command}: ${error.message}\n`);
      resolve(127);
    });
    child.on('exit', (code) => {
      foreground = undefined;
      resolve(code ?? 1);
    });
  });
}

/** Stops the foreground command, if any (it also gets the terminal's Ctrl-C itself). */
export function stopForeground() {
  foreground?.kill('SIGTERM');
}

/** The last lines a process wrote, for reports when it fails. */
export class Tail {
  constructor(size = 40) {
    this.size = size;
    this.lines = [];
  }

  push(line) {
    this.lines.push(line);
    if (this.lines.length > this.size) {
      this.lines.shift();
    }
  }

  text(format = (line) => line) {
    return this.lines.length === 0 ? '(no output)' : this.lines.map(format).join('\n');
  }
}

/** Prefix of a line that carries a one-time secret for the operator (identity's first-admin password). */
export const SECRET_LINE_PREFIX = 'VIVIFIED-ONE-TIME-SECRET ';

/**
 * Feeds every output line of a child to `onLine(line, stream)`, keeps a {@link Tail} of them and, when
 * `logFile` is given, appends the raw lines to it. Lines starting with {@link SECRET_LINE_PREFIX} go to
 * `onSecret(rest)` alone.
 */
export function followOutput(child, { tail, logFile, onLine = () => {}, onSecret }) {
  const file = logFile ? createWriteStream(logFile, { flags: 'w' }) : undefined;
  for (const [stream, name] of [
    [child.stdout, 'stdout'],
    [child.stderr, 'stderr'],
  ]) {
    if (!stream) {
      continue;
    }
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      // a one-time secret a service prints for the operator goes to the summary only, never to a log file
      if (onSecret && line.startsWith(SECRET_LINE_PREFIX)) {
        onSecret(line.slice(SECRET_LINE_PREFIX.length));

        return;
      }
      tail.push(line);
      file?.write(`${line}\n`);
      onLine(line, name);
    });
  }
  child.once('exit', () => setTimeout(() => file?.end(), 100));
}

/** Whether a child process is still running. */
export function isRunning(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves `{ code, signal }` when the child has exited (at once if it already has). */
export function exited(child) {
  if (!isRunning(child)) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }

  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** How a process ended, in words. */
export function describeExit({ code, signal }) {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Stops a child: `signal` (SIGTERM) to the process, then SIGKILL to its whole process group after
 * `timeoutMs`. Resolves true when it stopped by itself, false when it had to be killed.
 */
export async function stopProcess(child, { signal = 'SIGTERM', timeoutMs = 10_000 } = {}) {
  // No pid: it never started (spawn failed), so there is nothing to stop.
  if (child.pid === undefined || !isRunning(child)) {
    return true;
  }
  child.kill(signal);
  const stopped = await Promise.race([exited(child).then(() => true), sleep(timeoutMs).then(() => false)]);
  if (!stopped) {
    killGroup(child, 'SIGKILL');
    await exited(child);
  }

  return stopped;
}

/** Signals a detached child's process group (the child and anything it started), ignoring one that is gone. */
export function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
