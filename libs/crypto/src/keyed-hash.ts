import { createHmac, timingSafeEqual } from 'node:crypto';

import { CryptoError } from './errors';
import type { KekProvider } from './kek';

const MIN_KEY_BYTES = 16;
const hexDigest = /^[0-9a-f]{64}$/;

/**
 * Keyed hashes (HMAC-SHA256) for identifiers that must be searchable but not readable: refresh tokens,
 * patient identifiers in logs, lookup columns. Deterministic: the same value gives the same digest.
 * Normalize values (trim, lowercase an email, …) before hashing; this class hashes the exact UTF-8 bytes.
 *
 * @example
 * const hasher = await KeyedHasher.fromProvider(provider, 'identity.refresh-token');
 * const lookup = hasher.hash(refreshToken); // 64 lowercase hex characters
 */
export class KeyedHasher {
  private readonly key: Buffer;

  /**
   * A hasher whose key is `provider.hashKey(purpose)`: one key per purpose, stable across KEK rotation
   * (derived from the oldest KEK version).
   */
  static async fromProvider(provider: KekProvider, purpose: string): Promise<KeyedHasher> {
    return new KeyedHasher(await provider.hashKey(purpose));
  }

  /** @param key at least 16 bytes; 32 from `KekProvider.hashKey`. Copied. */
  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.byteLength < MIN_KEY_BYTES) {
      throw new CryptoError('invalid_key', `keyed-hash key must be at least ${MIN_KEY_BYTES} bytes`);
    }
    this.key = Buffer.from(key);
  }

  /** HMAC-SHA256 of `value` (UTF-8), lowercase hex. */
  hash(value: string): string {
    return this.digest(value).toString('hex');
  }

  /** True when `digest` is `hash(value)`; compared in constant time, false for anything not 64 lowercase hex. */
  verify(value: string, digest: string): boolean {
    const expected = this.digest(value);
    if (typeof digest !== 'string' || !hexDigest.test(digest)) {
      return false;
    }

    return timingSafeEqual(expected, Buffer.from(digest, 'hex'));
  }

  private digest(value: string): Buffer {
    if (typeof value !== 'string') {
      throw new TypeError('KeyedHasher: value must be a string');
    }

    return createHmac('sha256', this.key).update(value, 'utf8').digest();
  }
}
