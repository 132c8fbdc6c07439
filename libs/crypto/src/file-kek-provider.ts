import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { CryptoError } from './errors';
import { fromBase64Key } from './encoding';
import { KEY_BYTES, deriveHashKey, unknownVersion, validateKek } from './kek';
import type { KekProvider, KekSummary, KeyEncryptionKey } from './kek';

/** Options of {@link FileKekProvider}. */
export interface FileKekProviderOptions {
  /** The key file; created (with its directory) on first use when missing. */
  readonly path: string;
  /**
   * How long a loaded file is trusted before `current()` reads it again, so a rotation done by another
   * process is picked up without a restart. An unknown version always triggers a re-read (at most once a second).
   * @default 60000
   */
  readonly refreshMs?: number;
  /**
   * Create the file with one random key when it is missing. Turn off where data already exists, so a
   * missing mount fails (`CryptoError('invalid_key')`) instead of starting over with a key that reads nothing.
   * @default true
   */
  readonly createIfMissing?: boolean;
}

interface KeyFileState {
  readonly currentVersion: string;
  /** In file order: oldest first. */
  readonly keys: readonly KeyEncryptionKey[];
  readonly loadedAt: number;
}

interface KeyFileJson {
  current: string;
  keys: Array<{ version: string; key: string; createdAt?: string }>;
}

const minForcedReloadMs = 1_000;
const lockStaleMs = 30_000;
const lockWaitMs = 10_000;

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function newKey(version: string): KeyEncryptionKey {
  return Object.freeze({ version, key: randomBytes(KEY_BYTES), createdAt: new Date() });
}

function serialize(currentVersion: string, keys: readonly KeyEncryptionKey[]): string {
  const json: KeyFileJson = {
    current: currentVersion,
    keys: keys.map((kek) => ({
      version: kek.version,
      key: kek.key.toString('base64'),
      ...(kek.createdAt ? { createdAt: kek.createdAt.toISOString() } : {}),
    })),
  };

  return `${JSON.stringify(json, null, 2)}\n`;
}

function invalid(path: string, problem: string): CryptoError {
  return new CryptoError('invalid_key', `KEK file ${path}: ${problem}`);
}

function parse(path: string, text: string): Omit<KeyFileState, 'loadedAt'> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(path, 'not valid JSON');
  }
  if (typeof json !== 'object' || json === null || !Array.isArray((json as KeyFileJson).keys)) {
    throw invalid(path, 'expected {"current": "...", "keys": [...]}');
  }
  const { current, keys } = json as KeyFileJson;
  if (keys.length === 0) {
    throw invalid(path, 'no keys');
  }
  const seen = new Set<string>();
  const parsed = keys.map((entry, index) => {
    const where = `KEK file ${path} entry ${index + 1}`;
    if (
      typeof entry !== 'object' ||
      entry === null ||
      typeof entry.version !== 'string' ||
      typeof entry.key !== 'string'
    ) {
      throw new CryptoError('invalid_key', `${where}: expected {version, key, createdAt}`);
    }
    const key = fromBase64Key(entry.key);
    if (key === undefined) {
      throw new CryptoError('invalid_key', `${where}: key is not base64`);
    }
    validateKek(entry.version, key, where);
    if (seen.has(entry.version)) {
      throw new CryptoError('invalid_key', `${where}: version "${entry.version}" appears twice`);
    }
    seen.add(entry.version);
    let createdAt: Date | undefined;
    if (entry.createdAt !== undefined) {
      createdAt = new Date(entry.createdAt);
      if (typeof entry.createdAt !== 'string' || Number.isNaN(createdAt.getTime())) {
        throw new CryptoError('invalid_key', `${where}: createdAt is not an ISO date`);
      }
    }

    return Object.freeze(
      createdAt ? { version: entry.version, key, createdAt } : { version: entry.version, key },
    );
  });
  if (typeof current !== 'string' || !seen.has(current)) {
    throw invalid(path, '"current" does not name one of the keys');
  }

  return { currentVersion: current, keys: parsed };
}

function nextVersion(keys: readonly KeyEncryptionKey[]): string {
  const numbers = keys
    .map((kek) => /^v(\d+)$/.exec(kek.version))
    .map((match) => (match ? Number(match[1]) : 0));
  let next = Math.max(0, ...numbers, keys.length) + 1;
  while (keys.some((kek) => kek.version === `v${next}`)) {
    next += 1;
  }

  return `v${next}`;
}

/**
 * KEKs from a local JSON key file `{"current": "v2", "keys": [{"version", "key" (base64), "createdAt"}]}`,
 * oldest first. The default provider (`VIVIFIED_KEK_FILE`).
 *
 * - Created on first use with one random key: directory `mkdir -p` (0700), file 0600. The file is written
 *   to a temporary name and published with an exclusive hard link, so services starting together agree on
 *   one key and never read a half-written file.
 * - Refuses a file with any group or other permission bits (`CryptoError('invalid_key')`).
 * - {@link FileKekProvider.rotate} adds a version and makes it current (temp file + rename, 0600, under a
 *   lock file). The first version stays: it is the root of {@link KekProvider.hashKey}.
 */
export class FileKekProvider implements KekProvider {
  readonly path: string;
  private readonly refreshMs: number;
  private readonly createIfMissing: boolean;
  private state: KeyFileState | undefined;
  private loading: Promise<KeyFileState> | undefined;
  private rotating: Promise<unknown> = Promise.resolve();

  constructor(options: FileKekProviderOptions) {
    this.path = options.path;
    this.refreshMs = options.refreshMs ?? 60_000;
    this.createIfMissing = options.createIfMissing ?? true;
  }

  async current(): Promise<KeyEncryptionKey> {
    const state = await this.load(false);

    return state.keys.find((kek) => kek.version === state.currentVersion)!;
  }

  async get(version: string): Promise<KeyEncryptionKey> {
    let state = await this.load(false);
    let found = state.keys.find((kek) => kek.version === version);
    if (!found && Date.now() - state.loadedAt >= minForcedReloadMs) {
      // Another process may have rotated since we read the file.
      state = await this.load(true);
      found = state.keys.find((kek) => kek.version === version);
    }
    if (!found) {
      throw unknownVersion(version);
    }

    return found;
  }

  async list(): Promise<KekSummary[]> {
    const state = await this.load(false);

    return state.keys.map((kek) => ({
      version: kek.version,
      ...(kek.createdAt ? { createdAt: kek.createdAt } : {}),
      current: kek.version === state.currentVersion,
    }));
  }

  async hashKey(purpose: string): Promise<Buffer> {
    const state = await this.load(false);

    return deriveHashKey(state.keys[0], purpose);
  }

  /** Reads the file again now. */
  async reload(): Promise<void> {
    await this.load(true);
  }

  /** Adds a fresh random version (`v<n+1>`) and makes it current; returns it. */
  rotate(): Promise<KeyEncryptionKey> {
    const run = this.rotating.then(() => this.rotateLocked());
    this.rotating = run.catch(() => undefined);

    return run;
  }

  private async rotateLocked(): Promise<KeyEncryptionKey> {
    await this.load(false);
    const release = await this.lock();
    try {
      const { keys } = await this.readChecked();
      const added = newKey(nextVersion(keys));
      const all = [...keys, added];
      const tmp = `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      await this.writeSynced(tmp, serialize(added.version, all));
      try {
        await rename(tmp, this.path);
      } catch (error) {
        await unlink(tmp).catch(() => undefined);
        throw error;
      }
      this.state = { currentVersion: added.version, keys: all, loadedAt: Date.now() };

      return added;
    } finally {
      await release();
    }
  }

  private load(force: boolean): Promise<KeyFileState> {
    const state = this.state;
    if (!force && state && Date.now() - state.loadedAt < this.refreshMs) {
      return Promise.resolve(state);
    }
    if (!this.loading) {
      this.loading = this.readOrCreate()
        .then((read) => {
          const loaded = { ...read, loadedAt: Date.now() };
          this.state = loaded;

          return loaded;
        })
        .finally(() => {
          this.loading = undefined;
        });
    }

    return this.loading;
  }

  private async readOrCreate(): Promise<Omit<KeyFileState, 'loadedAt'>> {
    try {
      return await this.readChecked();
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') {
        throw error;
      }
    }
    if (!this.createIfMissing) {
      throw invalid(this.path, 'missing (createIfMissing is off)');
    }
    await this.create();

    return this.readChecked();
  }

  private async readChecked(): Promise<Omit<KeyFileState, 'loadedAt'>> {
    const info = await stat(this.path);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw invalid(
        this.path,
        `mode ${(info.mode & 0o777).toString(8)} gives group or others access; run chmod 600 on it`,
      );
    }

    return parse(this.path, await readFile(this.path, 'utf8'));
  }

  private async create(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const first = newKey('v1');
    const text = serialize(first.version, [first]);
    const tmp = `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await this.writeSynced(tmp, text);
    try {
      // link() publishes a complete file and fails with EEXIST if another process won the race.
      await link(tmp, this.path);
    } catch (error) {
      const code = errorCode(error);
      if (code !== 'EEXIST') {
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') {
          throw error;
        }
        // Filesystems without hard links: plain exclusive create.
        await writeFile(this.path, text, { mode: 0o600, flag: 'wx' }).catch((createError: unknown) => {
          if (errorCode(createError) !== 'EEXIST') {
            throw createError;
          }
        });
      }
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  private async writeSynced(path: string, text: string): Promise<void> {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + lockWaitMs;
    for (;;) {
      try {
        const handle = await open(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
        await handle.close();

        return () => unlink(lockPath).catch(() => undefined);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') {
          throw error;
        }
      }
      const held = await stat(lockPath).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > lockStaleMs) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`KEK file ${this.path} is locked by another rotation (${lockPath})`);
      }
      await sleep(50);
    }
  }
}
