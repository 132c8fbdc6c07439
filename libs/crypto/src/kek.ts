import { hkdfSync } from 'node:crypto';

import { fromBase64Key, kekVersionPattern } from './encoding';
import { CryptoError } from './errors';

/** Size of every key-encryption key and data key: AES-256. */
export const KEY_BYTES = 32;

/** A versioned key-encryption key (KEK): wraps the per-record data keys, never data itself. */
export interface KeyEncryptionKey {
  /** Name stored in every sealed value, e.g. `v2`; `[A-Za-z0-9_-]{1,32}`. */
  readonly version: string;
  /** 32 bytes of AES-256 key material. Never log it. */
  readonly key: Buffer;
  /** When the version was created, when the source records it. */
  readonly createdAt?: Date;
}

/** One line of {@link KekProvider.list}: what a report shows about a KEK, without its material. */
export interface KekSummary {
  readonly version: string;
  readonly createdAt?: Date;
  /** True for the version new data keys are wrapped with. */
  readonly current: boolean;
}

/** Where KEKs come from: an inline list, a local key file, later a KMS. */
export interface KekProvider {
  /** The version new data keys are wrapped with. */
  current(): Promise<KeyEncryptionKey>;
  /** A given version; throws `CryptoError('unknown_kek_version')` when it is not available. */
  get(version: string): Promise<KeyEncryptionKey>;
  /** Every version, oldest first, for reports (key ages). */
  list(): Promise<KekSummary[]>;
  /**
   * A 32-byte key for keyed hashes of `purpose`, derived with HKDF-SHA256 from the FIRST (oldest) KEK
   * version with `purpose` as info. It stays the same when the KEK rotates, so stored hashes keep
   * matching; it changes only if the oldest version is removed, which therefore must never happen.
   */
  hashKey(purpose: string): Promise<Buffer>;
}

const hashKeySalt = Buffer.from('vivified.crypto.hash-key.v1', 'utf8');

/** HKDF-SHA256(root, salt = library constant, info = purpose) → 32 bytes; see {@link KekProvider.hashKey}. */
export function deriveHashKey(root: KeyEncryptionKey, purpose: string): Buffer {
  if (typeof purpose !== 'string' || purpose.length === 0) {
    throw new TypeError('hashKey: purpose must be a non-empty string');
  }

  return Buffer.from(hkdfSync('sha256', root.key, hashKeySalt, Buffer.from(purpose, 'utf8'), KEY_BYTES));
}

/** Checks a version name and its key; messages name the version, never the key. */
export function validateKek(version: string, key: Buffer, where: string): void {
  if (!kekVersionPattern.test(version)) {
    throw new CryptoError('invalid_key', `${where}: KEK version must match ${kekVersionPattern.source}`);
  }
  if (key.byteLength !== KEY_BYTES) {
    throw new CryptoError('invalid_key', `${where}: KEK "${version}" is not ${KEY_BYTES} bytes`);
  }
}

export function unknownVersion(version: string): CryptoError {
  const name = kekVersionPattern.test(version) ? `"${version}"` : '(invalid name)';

  return new CryptoError('unknown_kek_version', `KEK version ${name} is not available`);
}

/**
 * KEKs from inline text `v1:<base64 32 bytes>,v2:<base64 32 bytes>`: the last entry is current, the first
 * is the root of {@link KekProvider.hashKey}. Meant for `VIVIFIED_KEK` (a secret from the environment).
 */
export class StaticKekProvider implements KekProvider {
  private readonly keys: readonly KeyEncryptionKey[];

  constructor(text: string) {
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0);
    if (entries.length === 0) {
      throw new CryptoError('invalid_key', 'inline KEK: no entries; expected v1:<base64>,v2:<base64>');
    }
    const seen = new Set<string>();
    this.keys = entries.map((entry, index) => {
      const colon = entry.indexOf(':');
      const where = `inline KEK entry ${index + 1}`;
      if (colon <= 0) {
        throw new CryptoError('invalid_key', `${where}: expected <version>:<base64 key>`);
      }
      const version = entry.slice(0, colon).trim();
      const key = fromBase64Key(entry.slice(colon + 1));
      if (key === undefined) {
        throw new CryptoError('invalid_key', `${where}: key is not base64`);
      }
      validateKek(version, key, where);
      if (seen.has(version)) {
        throw new CryptoError('invalid_key', `${where}: version "${version}" appears twice`);
      }
      seen.add(version);

      return Object.freeze({ version, key });
    });
  }

  current(): Promise<KeyEncryptionKey> {
    return Promise.resolve(this.keys[this.keys.length - 1]);
  }

  get(version: string): Promise<KeyEncryptionKey> {
    const found = this.keys.find((kek) => kek.version === version);

    return found ? Promise.resolve(found) : Promise.reject(unknownVersion(version));
  }

  list(): Promise<KekSummary[]> {
    const last = this.keys.length - 1;

    return Promise.resolve(
      this.keys.map((kek, index) => ({ version: kek.version, current: index === last })),
    );
  }

  hashKey(purpose: string): Promise<Buffer> {
    // The executor turns a throw (bad purpose) into a rejection.
    return new Promise((resolve) => resolve(deriveHashKey(this.keys[0], purpose)));
  }
}
