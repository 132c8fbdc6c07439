import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A random token, base64url without padding (43 characters for the default 32 bytes = 256 bits).
 * Use at least 16 bytes for anything that grants access.
 */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 65_536) {
    throw new RangeError('randomToken: bytes must be an integer between 1 and 65536');
  }

  return randomBytes(bytes).toString('base64url');
}

function asBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * Compares two secrets in time independent of where they differ. Strings compare as UTF-8.
 * Returns false (never throws) when the lengths differ.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const left = asBytes(a);
  const right = asBytes(b);
  // Comparing fixed-size digests keeps timingSafeEqual from throwing on a length mismatch.
  const sameDigest = timingSafeEqual(
    createHash('sha256').update(left).digest(),
    createHash('sha256').update(right).digest(),
  );

  return sameDigest && left.byteLength === right.byteLength;
}
