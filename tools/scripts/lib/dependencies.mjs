// Step (a) of `npm start`: install dependencies when node_modules is missing or older than the lockfile.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { say } from './output.mjs';
import { runCommand } from './processes.mjs';

/**
 * Why an install is needed, or undefined when node_modules is current. npm writes
 * node_modules/.package-lock.json after package-lock.json on every install, so a lockfile newer than it
 * means the dependencies changed since (a pull, a branch switch).
 */
export function installReason(root) {
  const modules = join(root, 'node_modules');
  const lockfile = join(root, 'package-lock.json');
  if (!existsSync(modules)) {
    return 'node_modules is missing';
  }
  if (!existsSync(lockfile)) {
    return undefined;
  }
  const hidden = join(modules, '.package-lock.json');
  const installedAt = statSync(existsSync(hidden) ? hidden : modules).mtimeMs;

  return statSync(lockfile).mtimeMs > installedAt
    ? 'package-lock.json is newer than node_modules'
    : undefined;
}

/** Runs `npm ci` (or `npm install` without a lockfile) when needed; resolves false when it failed. */
export async function ensureDependencies(root) {
  const reason = installReason(root);
  if (!reason) {
    say.ok('dependencies are installed');

    return true;
  }
  const args = existsSync(join(root, 'package-lock.json')) ? ['ci'] : ['install'];
  say.info(`${reason}: running npm ${args[0]}`);
  const code = await runCommand('npm', [...args, '--no-audit', '--no-fund'], { cwd: root });
  if (code !== 0) {
    say.error(`npm ${args[0]} failed (exit code ${code})`);

    return false;
  }

  return true;
}
