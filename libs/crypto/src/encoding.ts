import { CryptoError } from './errors';

const base64UrlPattern = /^[A-Za-z0-9_-]*$/;

/** KEK version names: short, and free of the separators used by the sealed and inline formats. */
export const kekVersionPattern = /^[A-Za-z0-9_-]{1,32}$/;

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict base64url: Node's decoder skips foreign characters and ignores non-zero padding bits, so a
 * changed character could decode to the same bytes; re-encoding must give back the input exactly.
 */
export function fromBase64UrlStrict(text: string, what: string): Buffer {
  if (!base64UrlPattern.test(text)) {
    throw new CryptoError('malformed', `${what} is not base64url`);
  }
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) {
    throw new CryptoError('malformed', `${what} is not canonical base64url`);
  }

  return bytes;
}

/** Standard or url-safe base64, padded or not, that must round-trip (key files and inline KEKs). */
export function fromBase64Key(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(trimmed)) {
    return undefined;
  }
  const urlSafe = trimmed.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const bytes = Buffer.from(urlSafe, 'base64url');

  return bytes.toString('base64url') === urlSafe ? bytes : undefined;
}
