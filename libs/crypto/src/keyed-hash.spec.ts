import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { CryptoError } from './errors';
import { StaticKekProvider } from './kek';
import { KeyedHasher } from './keyed-hash';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');

describe(KeyedHasher.name, () => {
  it('is HMAC-SHA256 as lowercase hex, deterministic', () => {
    const key = randomBytes(32);
    const sut = new KeyedHasher(key);
    const digest = sut.hash('patient-12345');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(sut.hash('patient-12345')).toBe(digest);
    expect(digest).toBe(createHmac('sha256', key).update('patient-12345', 'utf8').digest('hex'));
    expect(sut.hash('patient-12346')).not.toBe(digest);
    expect(sut.hash('')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('depends on the key: another key gives another digest', () => {
    expect(new KeyedHasher(randomBytes(32)).hash('x')).not.toBe(new KeyedHasher(randomBytes(32)).hash('x'));
  });

  it('copies its key so later changes to the caller buffer do not matter', () => {
    const key = randomBytes(32);
    const sut = new KeyedHasher(key);
    const digest = sut.hash('x');
    key.fill(0);
    expect(sut.hash('x')).toBe(digest);
  });

  it('verify accepts the digest and refuses anything else without throwing', () => {
    const sut = new KeyedHasher(randomBytes(32));
    const digest = sut.hash('token');
    expect(sut.verify('token', digest)).toBe(true);
    expect(sut.verify('token2', digest)).toBe(false);
    expect(sut.verify('token', digest.toUpperCase())).toBe(false);
    expect(sut.verify('token', digest.slice(0, -1))).toBe(false);
    expect(sut.verify('token', `${digest}0`)).toBe(false);
    expect(sut.verify('token', '')).toBe(false);
    expect(sut.verify('token', 'z'.repeat(64))).toBe(false);
    expect(sut.verify('token', undefined as unknown as string)).toBe(false);
    for (let i = 0; i < digest.length; i += 1) {
      const flipped = `${digest.slice(0, i)}${digest[i] === '0' ? '1' : '0'}${digest.slice(i + 1)}`;
      expect(sut.verify('token', flipped)).toBe(false);
    }
  });

  it('refuses short keys with invalid_key', () => {
    expect(() => new KeyedHasher(randomBytes(8))).toThrow(CryptoError);
    expect(() => new KeyedHasher('not a buffer' as unknown as Buffer)).toThrow(CryptoError);
  });

  it('fromProvider: one key per purpose, stable across KEK rotation', async () => {
    const before = await KeyedHasher.fromProvider(
      new StaticKekProvider(`v1:${k1}`),
      'identity.refresh-token',
    );
    const after = await KeyedHasher.fromProvider(
      new StaticKekProvider(`v1:${k1},v2:${k2}`),
      'identity.refresh-token',
    );
    const other = await KeyedHasher.fromProvider(new StaticKekProvider(`v1:${k1}`), 'audit.patient-id');
    expect(after.hash('abc')).toBe(before.hash('abc'));
    expect(other.hash('abc')).not.toBe(before.hash('abc'));
    // The hash key is derived, not the KEK itself.
    expect(before.hash('abc')).not.toBe(new KeyedHasher(Buffer.from(k1, 'base64')).hash('abc'));
  });
});
