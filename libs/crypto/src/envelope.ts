import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { fromBase64UrlStrict, kekVersionPattern, toBase64Url } from './encoding';
import { CryptoError } from './errors';
import { KEY_BYTES } from './kek';
import type { KekProvider, KeyEncryptionKey } from './kek';

/** First segment of every sealed value in the current format. */
export const SEALED_FORMAT = 'v1';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_DEK_BYTES = KEY_BYTES + TAG_BYTES;

/** The parts of a sealed value: `v1.<kekVersion>.<wrapIv>.<wrappedDek+tag>.<iv>.<ciphertext+tag>`. */
interface SealedParts {
  readonly kekVersion: string;
  readonly wrapIv: Buffer;
  readonly wrappedDek: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  /** `<iv>.<ciphertext+tag>` exactly as received, reused by rewrap. */
  readonly dataText: string;
}

// Domain-separated AADs: the wrap binds format + KEK version, the data binds format + the caller's aad.
function wrapAad(kekVersion: string): Buffer {
  return Buffer.from(`vivified.crypto.${SEALED_FORMAT}.wrap.${kekVersion}`, 'utf8');
}

function dataAad(aad: string): Buffer {
  return Buffer.from(`vivified.crypto.${SEALED_FORMAT}.data.${aad}`, 'utf8');
}

function checkAad(aad: string): void {
  if (typeof aad !== 'string' || aad.length === 0) {
    throw new TypeError('aad must be a non-empty string naming the record, e.g. identity.totp:<userId>');
  }
}

function checkKek(kek: KeyEncryptionKey): void {
  if (!kekVersionPattern.test(kek.version) || kek.key.byteLength !== KEY_BYTES) {
    throw new CryptoError('invalid_key', 'KEK provider returned an invalid key');
  }
}

function seal(key: Buffer, iv: Buffer, plaintext: Uint8Array, aad: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);

  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function open(key: Buffer, iv: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES));

    return Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.byteLength - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (cause) {
    throw new CryptoError('decrypt_failed', undefined, { cause });
  }
}

function parse(sealed: string): SealedParts {
  if (typeof sealed !== 'string') {
    throw new CryptoError('malformed', 'sealed value is not a string');
  }
  const parts = sealed.split('.');
  if (parts.length !== 6) {
    throw new CryptoError('malformed', 'sealed value must have 6 dot-separated segments');
  }
  const [format, kekVersion, wrapIvText, wrappedText, ivText, ctText] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (format !== SEALED_FORMAT) {
    throw new CryptoError('malformed', 'sealed value has an unknown format version');
  }
  if (!kekVersionPattern.test(kekVersion)) {
    throw new CryptoError('malformed', 'sealed value has an invalid KEK version');
  }
  const wrapIv = fromBase64UrlStrict(wrapIvText, 'wrap IV');
  const wrappedDek = fromBase64UrlStrict(wrappedText, 'wrapped data key');
  const iv = fromBase64UrlStrict(ivText, 'IV');
  const ciphertext = fromBase64UrlStrict(ctText, 'ciphertext');
  if (
    wrapIv.byteLength !== IV_BYTES ||
    wrappedDek.byteLength !== WRAPPED_DEK_BYTES ||
    iv.byteLength !== IV_BYTES ||
    ciphertext.byteLength < TAG_BYTES
  ) {
    throw new CryptoError('malformed', 'sealed value has a segment of the wrong length');
  }

  return { kekVersion, wrapIv, wrappedDek, iv, ciphertext, dataText: `${ivText}.${ctText}` };
}

function wrap(kek: KeyEncryptionKey, dek: Buffer): string {
  const wrapIv = randomBytes(IV_BYTES);
  const wrapped = seal(kek.key, wrapIv, dek, wrapAad(kek.version));

  return `${SEALED_FORMAT}.${kek.version}.${toBase64Url(wrapIv)}.${toBase64Url(wrapped)}`;
}

/** True when `value` has the shape of a sealed value (no key needed, nothing verified). */
export function isSealed(value: unknown): value is string {
  if (typeof value !== 'string') {
    return false;
  }
  try {
    parse(value);

    return true;
  } catch {
    return false;
  }
}

/**
 * Envelope encryption for secrets and PHI at rest.
 *
 * Each record gets a fresh random 256-bit data key (DEK) and 96-bit IV; the data is AES-256-GCM with the
 * caller's `aad` bound in, so a ciphertext copied to another record (another `aad`) fails. The DEK is
 * wrapped by the current KEK with AES-256-GCM under its own random IV, binding the KEK version and the
 * format version. The result is one compact, self-describing string:
 *
 * `v1.<kekVersion>.<b64url wrapIv>.<b64url wrappedDek+tag>.<b64url iv>.<b64url ciphertext+tag>`
 *
 * Changing any character of it, or the `aad`, makes {@link EnvelopeCipher.decrypt} throw
 * `CryptoError('decrypt_failed' | 'malformed')` (or `'unknown_kek_version'` when the version segment
 * then names a version the provider does not have).
 *
 * @example
 * const cipher = new EnvelopeCipher(createKekProvider({ kek: config.kek, kekFile: config.kekFile }));
 * const sealed = await cipher.encrypt(totpSecret, `identity.totp:${userId}`);
 * const secret = await cipher.decryptString(sealed, `identity.totp:${userId}`);
 */
export class EnvelopeCipher {
  constructor(private readonly provider: KekProvider) {}

  /** Seals `plaintext` (a string is UTF-8) under the current KEK; `aad` names the record. */
  async encrypt(plaintext: Uint8Array | string, aad: string): Promise<string> {
    checkAad(aad);
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const kek = await this.provider.current();
    checkKek(kek);
    const dek = randomBytes(KEY_BYTES);
    try {
      const iv = randomBytes(IV_BYTES);
      const ciphertext = seal(dek, iv, bytes, dataAad(aad));

      return `${wrap(kek, dek)}.${toBase64Url(iv)}.${toBase64Url(ciphertext)}`;
    } finally {
      dek.fill(0);
    }
  }

  /** Opens a sealed value; `aad` must be the one it was sealed with. */
  async decrypt(sealed: string, aad: string): Promise<Buffer> {
    checkAad(aad);
    const parts = parse(sealed);
    const dek = await this.unwrap(parts);
    try {
      return open(dek, parts.iv, parts.ciphertext, dataAad(aad));
    } finally {
      dek.fill(0);
    }
  }

  /** {@link EnvelopeCipher.decrypt} as a UTF-8 string. */
  async decryptString(sealed: string, aad: string): Promise<string> {
    return (await this.decrypt(sealed, aad)).toString('utf8');
  }

  /** The KEK version a sealed value is wrapped with (structure checked, nothing decrypted). */
  kekVersionOf(sealed: string): string {
    return parse(sealed).kekVersion;
  }

  /**
   * Re-wraps the data key under the current KEK; the data part stays byte for byte. The whole value is
   * authenticated first (including `aad`), so a damaged record fails here rather than being carried
   * forward. Returns the same string when it is already under the current KEK.
   */
  async rewrap(sealed: string, aad: string): Promise<string> {
    checkAad(aad);
    const parts = parse(sealed);
    const current = await this.provider.current();
    checkKek(current);
    const dek = await this.unwrap(parts);
    try {
      open(dek, parts.iv, parts.ciphertext, dataAad(aad)).fill(0);
      if (parts.kekVersion === current.version) {
        return sealed;
      }

      return `${wrap(current, dek)}.${parts.dataText}`;
    } finally {
      dek.fill(0);
    }
  }

  private async unwrap(parts: SealedParts): Promise<Buffer> {
    const kek = await this.provider.get(parts.kekVersion);
    checkKek(kek);
    if (kek.version !== parts.kekVersion) {
      throw new CryptoError('invalid_key', 'KEK provider returned a different version than asked for');
    }

    return open(kek.key, parts.wrapIv, parts.wrappedDek, wrapAad(parts.kekVersion));
  }
}
