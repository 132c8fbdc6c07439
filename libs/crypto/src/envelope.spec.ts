import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { EnvelopeCipher, isSealed } from './envelope';
import { CryptoError } from './errors';
import { StaticKekProvider } from './kek';
import type { KekProvider, KeyEncryptionKey } from './kek';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const aad = 'identity.totp:8d7c1c1e-0000-4000-8000-000000000001';
const base64UrlAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// Every base64url character plus separators and characters a lenient decoder would skip or accept.
const replacements = `${base64UrlAlphabet}.=+/ \n%:`;

function v1Only(): EnvelopeCipher {
  return new EnvelopeCipher(new StaticKekProvider(`v1:${k1}`));
}

function v1v2(): EnvelopeCipher {
  return new EnvelopeCipher(new StaticKekProvider(`v1:${k1},v2:${k2}`));
}

/** Resolves to the CryptoError code, or fails the test if decrypt did not throw one. */
async function failureCode(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);

    return (error as CryptoError).code;
  }

  return 'decrypted';
}

/** mulberry32: a seeded PRNG so a failing property run can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);

    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe(EnvelopeCipher.name, () => {
  it('round-trips strings and bytes, including empty and large values', async () => {
    const sut = v1Only();
    for (const value of ['', 'hello', 'ünïcødé ✓ 𝄞', 'x'.repeat(100_000)]) {
      expect(await sut.decryptString(await sut.encrypt(value, aad), aad)).toBe(value);
    }
    const bytes = randomBytes(1_000);
    expect((await sut.decrypt(await sut.encrypt(bytes, aad), aad)).equals(bytes)).toBe(true);
  });

  it('produces the documented compact format with fresh randomness per record', async () => {
    const sut = v1Only();
    const a = await sut.encrypt('same', aad);
    const b = await sut.encrypt('same', aad);
    expect(a).not.toBe(b);
    const [format, version, wrapIv, wrapped, iv, ct] = a.split('.');
    expect(a.split('.')).toHaveLength(6);
    expect(format).toBe('v1');
    expect(version).toBe('v1');
    expect(Buffer.from(wrapIv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(wrapped, 'base64url')).toHaveLength(48);
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(ct, 'base64url')).toHaveLength(4 + 16);
    expect(a).toMatch(/^[A-Za-z0-9_.-]+$/);
    const bParts = b.split('.');
    expect(bParts[2]).not.toBe(wrapIv);
    expect(bParts[3]).not.toBe(wrapped);
    expect(bParts[4]).not.toBe(iv);
    expect(isSealed(a)).toBe(true);
    expect(isSealed('plain text')).toBe(false);
    expect(sut.kekVersionOf(a)).toBe('v1');
  });

  it('binds the aad: a ciphertext moved to another record fails', async () => {
    const sut = v1Only();
    const sealed = await sut.encrypt('secret', aad);
    for (const other of [`${aad}x`, aad.slice(0, -1), aad.toUpperCase(), 'identity.totp:someone-else', ' ']) {
      expect(await failureCode(sut.decrypt(sealed, other))).toBe('decrypt_failed');
    }
    // Every single-character change of the aad fails too.
    for (let i = 0; i < aad.length; i += 1) {
      const changed = `${aad.slice(0, i)}${aad[i] === 'a' ? 'b' : 'a'}${aad.slice(i + 1)}`;
      expect(await failureCode(sut.decrypt(sealed, changed))).toBe('decrypt_failed');
    }
    await expect(sut.encrypt('secret', '')).rejects.toThrow(TypeError);
    await expect(sut.decrypt(sealed, '')).rejects.toThrow(TypeError);
  });

  it(
    'rejects every single-character substitution, deletion and insertion of a sealed value',
    { timeout: 60_000 },
    async () => {
      const sut = v1v2();
      const sealed = await sut.encrypt('hi', aad);
      const versionStart = 'v1.'.length;
      const versionEnd = versionStart + sut.kekVersionOf(sealed).length;
      const codes = new Map<string, number>();
      let tried = 0;
      const check = async (tampered: string, position: number) => {
        const code = await failureCode(sut.decrypt(tampered, aad));
        const inVersion = position >= versionStart && position <= versionEnd;
        const allowed = inVersion
          ? ['decrypt_failed', 'malformed', 'unknown_kek_version']
          : ['decrypt_failed', 'malformed'];
        expect(allowed, `position ${position}: ${JSON.stringify(tampered)}`).toContain(code);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        tried += 1;
      };
      for (let i = 0; i < sealed.length; i += 1) {
        for (const replacement of replacements) {
          if (replacement !== sealed[i]) {
            await check(`${sealed.slice(0, i)}${replacement}${sealed.slice(i + 1)}`, i);
          }
        }
        await check(`${sealed.slice(0, i)}${sealed.slice(i + 1)}`, i);
        await check(`${sealed.slice(0, i)}A${sealed.slice(i)}`, i);
      }
      await check(`${sealed}A`, sealed.length);
      await check(`${sealed}.`, sealed.length);
      expect(tried).toBeGreaterThan(sealed.length * base64UrlAlphabet.length);
      // Both layers are exercised: structure checks and GCM authentication.
      expect(codes.get('malformed')).toBeGreaterThan(0);
      expect(codes.get('decrypt_failed')).toBeGreaterThan(0);
    },
  );

  it(
    'property: random multi-character tampering never decrypts (seeded, 2000 cases)',
    { timeout: 60_000 },
    async () => {
      const seed = 0x5eed_c0de;
      const random = prng(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const sut = v1Only();
      for (let run = 0; run < 2_000; run += 1) {
        const plaintext = randomBytes(pick(64));
        const recordAad = `test.prop:${run}`;
        const sealed = await sut.encrypt(plaintext, recordAad);
        const chars = [...sealed];
        const edits = 1 + pick(4);
        for (let e = 0; e < edits; e += 1) {
          const at = pick(chars.length);
          const kind = pick(3);
          const char = replacements[pick(replacements.length)];
          if (kind === 0) {
            chars[at] = char;
          } else if (kind === 1) {
            chars.splice(at, 1);
          } else {
            chars.splice(at, 0, char);
          }
        }
        const tampered = chars.join('');
        if (tampered === sealed) {
          expect((await sut.decrypt(tampered, recordAad)).equals(plaintext)).toBe(true);
          continue;
        }
        const code = await failureCode(sut.decrypt(tampered, recordAad));
        expect(['decrypt_failed', 'malformed', 'unknown_kek_version'], `seed ${seed} run ${run}`).toContain(
          code,
        );
      }
    },
  );

  it('refuses a wrapped key moved to another KEK version name (the wrap binds the version)', async () => {
    const sut = v1v2();
    const underV2 = await sut.encrypt('secret', aad);
    const relabelled = underV2.replace(/^v1\.v2\./, 'v1.v1.');
    expect(await failureCode(sut.decrypt(relabelled, aad))).toBe('decrypt_failed');
  });

  it('refuses a data part spliced onto another record’s wrapped key', async () => {
    const sut = v1Only();
    const a = (await sut.encrypt('first', aad)).split('.');
    const b = (await sut.encrypt('other', aad)).split('.');
    const spliced = [...a.slice(0, 4), ...b.slice(4)].join('.');
    expect(await failureCode(sut.decrypt(spliced, aad))).toBe('decrypt_failed');
  });

  it('reports structural problems as malformed', async () => {
    const sut = v1Only();
    const sealed = await sut.encrypt('x', aad);
    const parts = sealed.split('.');
    const cases = [
      '',
      'not sealed',
      parts.slice(0, 5).join('.'),
      `${sealed}.extra`,
      ['v2', ...parts.slice(1)].join('.'),
      ['v1', 'bad.version', ...parts.slice(2)].join('.'),
      [...parts.slice(0, 2), parts[2].slice(0, -2), ...parts.slice(3)].join('.'),
      [...parts.slice(0, 5), 'AAAA'].join('.'),
    ];
    for (const value of cases) {
      expect(await failureCode(sut.decrypt(value, aad)), value).toBe('malformed');
    }
    expect(() => sut.kekVersionOf('garbage')).toThrow(CryptoError);
    await expect(sut.decrypt(123 as unknown as string, aad)).rejects.toMatchObject({ code: 'malformed' });
  });

  it('reports a version the provider lacks as unknown_kek_version', async () => {
    const sealed = await v1v2().encrypt('x', aad);
    const code = await failureCode(v1Only().decrypt(sealed, aad));
    expect(code).toBe('unknown_kek_version');
  });

  it('keeps old data readable after rotation and rewraps it forward without touching the data', async () => {
    const before = v1Only();
    const sealed = await before.encrypt('long-lived secret', aad);
    const after = v1v2();
    expect(await after.decryptString(sealed, aad)).toBe('long-lived secret');
    expect(after.kekVersionOf(await after.encrypt('new', aad))).toBe('v2');

    const moved = await after.rewrap(sealed, aad);
    expect(after.kekVersionOf(moved)).toBe('v2');
    expect(moved.split('.').slice(4)).toEqual(sealed.split('.').slice(4));
    expect(moved.split('.').slice(2, 4)).not.toEqual(sealed.split('.').slice(2, 4));
    expect(await after.decryptString(moved, aad)).toBe('long-lived secret');
    expect(await after.rewrap(moved, aad)).toBe(moved);
    // The old KEK alone can no longer open it.
    expect(await failureCode(before.decrypt(moved, aad))).toBe('unknown_kek_version');
  });

  it('rewrap authenticates the whole value first', async () => {
    const sut = v1v2();
    const sealed = await v1Only().encrypt('x', aad);
    expect(await failureCode(sut.rewrap(sealed, 'identity.totp:other'))).toBe('decrypt_failed');
    const parts = sealed.split('.');
    const lastChar = parts[5].at(-2) === 'A' ? 'B' : 'A';
    parts[5] = `${parts[5].slice(0, -2)}${lastChar}${parts[5].slice(-1)}`;
    expect(['decrypt_failed', 'malformed']).toContain(await failureCode(sut.rewrap(parts.join('.'), aad)));
  });

  it('refuses a provider that hands out a bad key, without echoing it', async () => {
    const bad: KeyEncryptionKey = { version: 'v1', key: Buffer.alloc(16, 7) };
    const provider: KekProvider = {
      current: () => Promise.resolve(bad),
      get: () => Promise.resolve(bad),
      list: () => Promise.resolve([{ version: 'v1', current: true }]),
      hashKey: () => Promise.resolve(Buffer.alloc(32)),
    };
    const error = await new EnvelopeCipher(provider).encrypt('x', aad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('invalid_key');
    expect((error as CryptoError).message).not.toContain(bad.key.toString('base64'));
  });

  it('never puts key material or plaintext into error messages', async () => {
    const sut = v1Only();
    const sealed = await sut.encrypt('top secret value', aad);
    const error = (await sut.decrypt(sealed, 'identity.totp:other').catch((e: unknown) => e)) as CryptoError;
    expect(error.message).not.toContain('top secret');
    expect(error.message).not.toContain(k1);
    expect(error.message).not.toContain(sealed);
    expect(error.name).toBe('CryptoError');
  });
});
