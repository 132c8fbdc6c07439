import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createKekProvider } from './create-kek-provider';
import { EnvelopeCipher } from './envelope';
import { CryptoError } from './errors';
import { FileKekProvider } from './file-kek-provider';
import { StaticKekProvider } from './kek';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

async function codeOf(run: () => unknown): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);

    return (error as CryptoError).code;
  }

  return undefined;
}

describe(StaticKekProvider.name, () => {
  it('parses v1:<base64>,v2:<base64> with the last entry current', async () => {
    const sut = new StaticKekProvider(` v1:${k1.toString('base64')} , v2:${k2.toString('base64url')} `);
    expect((await sut.current()).version).toBe('v2');
    expect((await sut.get('v1')).key.equals(k1)).toBe(true);
    expect((await sut.get('v2')).key.equals(k2)).toBe(true);
    expect(await sut.list()).toEqual([
      { version: 'v1', current: false },
      { version: 'v2', current: true },
    ]);
  });

  it('throws unknown_kek_version for a version it lacks', async () => {
    const sut = new StaticKekProvider(`v1:${k1.toString('base64')}`);
    expect(await codeOf(() => sut.get('v9'))).toBe('unknown_kek_version');
  });

  it('refuses bad text with invalid_key and never echoes the key', async () => {
    const short = randomBytes(16).toString('base64');
    for (const text of [
      '',
      ',',
      `v1${k1.toString('base64')}`,
      `v1:${short}`,
      'v1:@@@',
      `bad.v:${k1.toString('base64')}`,
    ]) {
      expect(await codeOf(() => new StaticKekProvider(text)), text).toBe('invalid_key');
    }
    const dup = `v1:${k1.toString('base64')},v1:${k2.toString('base64')}`;
    expect(await codeOf(() => new StaticKekProvider(dup))).toBe('invalid_key');
    try {
      new StaticKekProvider(`v1:${short}`);
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
  });

  it('derives hash keys from the FIRST version, per purpose, stable when a version is added', async () => {
    const before = new StaticKekProvider(`v1:${k1.toString('base64')}`);
    const after = new StaticKekProvider(`v1:${k1.toString('base64')},v2:${k2.toString('base64')}`);
    const a = await before.hashKey('identity.refresh-token');
    expect(a).toHaveLength(32);
    expect((await after.hashKey('identity.refresh-token')).equals(a)).toBe(true);
    expect((await after.hashKey('audit.patient-id')).equals(a)).toBe(false);
    expect(a.equals(k1)).toBe(false);
    await expect(before.hashKey('')).rejects.toThrow(TypeError);
  });
});

describe(FileKekProvider.name, () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vivified-kek-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the file on first use: mkdir -p, mode 0600, one random key, current', async () => {
    const path = join(dir, 'nested', 'deeper', 'kek.json');
    const sut = new FileKekProvider({ path });
    const current = await sut.current();
    expect(current.version).toBe('v1');
    expect(current.key).toHaveLength(32);
    expect(current.createdAt).toBeInstanceOf(Date);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(path, 'utf8')) as {
      current: string;
      keys: Array<{ key: string }>;
    };
    expect(json.current).toBe('v1');
    expect(Buffer.from(json.keys[0].key, 'base64').equals(current.key)).toBe(true);
    // A second provider reads the same key rather than creating another.
    expect((await new FileKekProvider({ path }).current()).key.equals(current.key)).toBe(true);
    expect((await readdir(join(dir, 'nested', 'deeper'))).sort()).toEqual(['kek.json']);
  });

  it('with createIfMissing off, a missing file is an error rather than a new key', async () => {
    const path = join(dir, 'absent', 'kek.json');
    const error = await new FileKekProvider({ path, createIfMissing: false })
      .current()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('invalid_key');
    expect(await readdir(dir)).toEqual([]);
  });

  it('concurrent first use by several providers agrees on one key', async () => {
    for (let round = 0; round < 5; round += 1) {
      const path = join(dir, `round-${round}`, 'kek.json');
      const providers = Array.from({ length: 8 }, () => new FileKekProvider({ path }));
      const keys = await Promise.all(providers.map((provider) => provider.current()));
      const first = keys[0].key;
      for (const kek of keys) {
        expect(kek.version).toBe('v1');
        expect(kek.key.equals(first)).toBe(true);
      }
      const json = JSON.parse(await readFile(path, 'utf8')) as { keys: unknown[] };
      expect(json.keys).toHaveLength(1);
      expect(await readdir(join(dir, `round-${round}`))).toEqual(['kek.json']);
    }
  });

  it('refuses a file readable by group or others', async () => {
    const path = join(dir, 'kek.json');
    await new FileKekProvider({ path }).current();
    await chmod(path, 0o640);
    const error = await new FileKekProvider({ path }).current().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('invalid_key');
    expect((error as CryptoError).message).toContain('chmod 600');
    await chmod(path, 0o604);
    expect(await codeOf(() => new FileKekProvider({ path }).current())).toBe('invalid_key');
  });

  it('refuses malformed files with invalid_key, without echoing key material', async () => {
    const path = join(dir, 'kek.json');
    const short = randomBytes(8).toString('base64');
    const bodies = [
      'not json',
      '{}',
      JSON.stringify({ current: 'v1', keys: [] }),
      JSON.stringify({ current: 'v2', keys: [{ version: 'v1', key: k1.toString('base64') }] }),
      JSON.stringify({ current: 'v1', keys: [{ version: 'v1', key: short }] }),
      JSON.stringify({
        current: 'v1',
        keys: [{ version: 'v1', key: k1.toString('base64'), createdAt: 'soon' }],
      }),
      JSON.stringify({
        current: 'v1',
        keys: [
          { version: 'v1', key: k1.toString('base64') },
          { version: 'v1', key: k2.toString('base64') },
        ],
      }),
    ];
    for (const body of bodies) {
      await writeFile(path, body, { mode: 0o600 });
      const error = await new FileKekProvider({ path }).current().catch((e: unknown) => e);
      expect(error, body).toBeInstanceOf(CryptoError);
      expect((error as CryptoError).code).toBe('invalid_key');
      expect((error as CryptoError).message).not.toContain(short);
      expect((error as CryptoError).message).not.toContain(k1.toString('base64'));
    }
  });

  it('rotate() adds a version, makes it current, keeps 0600, and old data still decrypts', async () => {
    const path = join(dir, 'kek.json');
    const sut = new FileKekProvider({ path });
    const cipher = new EnvelopeCipher(sut);
    const old = await cipher.encrypt('secret', 'test:1');
    const hashKey = await sut.hashKey('identity.refresh-token');

    const added = await sut.rotate();
    expect(added.version).toBe('v2');
    expect((await sut.current()).version).toBe('v2');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await cipher.decryptString(old, 'test:1')).toBe('secret');
    expect(cipher.kekVersionOf(await cipher.rewrap(old, 'test:1'))).toBe('v2');
    expect((await sut.hashKey('identity.refresh-token')).equals(hashKey)).toBe(true);
    const listed = await sut.list();
    expect(listed.map(({ version, current }) => ({ version, current }))).toEqual([
      { version: 'v1', current: false },
      { version: 'v2', current: true },
    ]);
    expect(listed.every((entry) => entry.createdAt instanceof Date)).toBe(true);
    expect(await readdir(dir)).toEqual(['kek.json']);
  });

  it('concurrent rotations in several providers lose no version', async () => {
    const path = join(dir, 'kek.json');
    await new FileKekProvider({ path }).current();
    const providers = Array.from({ length: 4 }, () => new FileKekProvider({ path }));
    const added = await Promise.all(providers.flatMap((provider) => [provider.rotate(), provider.rotate()]));
    expect(new Set(added.map((kek) => kek.version)).size).toBe(8);
    const fresh = new FileKekProvider({ path });
    expect((await fresh.list()).map((entry) => entry.version)).toEqual([
      'v1',
      'v2',
      'v3',
      'v4',
      'v5',
      'v6',
      'v7',
      'v8',
      'v9',
    ]);
    for (const kek of added) {
      expect((await fresh.get(kek.version)).key.equals(kek.key)).toBe(true);
    }
  });

  it('picks up a rotation made by another process when asked for the new version', async () => {
    const path = join(dir, 'kek.json');
    const reader = new FileKekProvider({ path });
    const writer = new FileKekProvider({ path });
    await reader.current();
    await writer.rotate();
    const sealed = await new EnvelopeCipher(writer).encrypt('after rotation', 'test:1');
    expect(new EnvelopeCipher(writer).kekVersionOf(sealed)).toBe('v2');
    // Unknown versions force a re-read at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect(await new EnvelopeCipher(reader).decryptString(sealed, 'test:1')).toBe('after rotation');
    expect(await codeOf(() => reader.get('v99'))).toBe('unknown_kek_version');
    await reader.reload();
    expect((await reader.current()).version).toBe('v2');
  });

  it('current() re-reads the file after refreshMs', async () => {
    const path = join(dir, 'kek.json');
    const reader = new FileKekProvider({ path, refreshMs: 0 });
    await reader.current();
    await new FileKekProvider({ path }).rotate();
    expect((await reader.current()).version).toBe('v2');
  });
});

describe(createKekProvider.name, () => {
  it('uses inline KEKs when given, else the key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vivified-kek-'));
    try {
      const kekFile = join(dir, 'kek.json');
      const inline = createKekProvider({ kek: `v7:${k1.toString('base64')}`, kekFile });
      expect(inline).toBeInstanceOf(StaticKekProvider);
      expect((await inline.current()).version).toBe('v7');
      const file = createKekProvider({ kek: '  ', kekFile });
      expect(file).toBeInstanceOf(FileKekProvider);
      expect((await file.current()).version).toBe('v1');
      expect(createKekProvider({ kekFile })).toBeInstanceOf(FileKekProvider);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
