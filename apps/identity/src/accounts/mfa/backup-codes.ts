import { randomBytes } from 'node:crypto';

/** Crockford base32, lower case: no i, l, o or u to misread. 32 symbols, so one byte & 31 is uniform. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** How many codes a user holds. */
export const BACKUP_CODE_COUNT = 10;

/** Characters per code (40 bits), shown as two groups of four. */
const CODE_LENGTH = 8;

/** `count` distinct new codes, formatted `xxxx-xxxx`. */
export function generateBackupCodes(count = BACKUP_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    const bytes = randomBytes(CODE_LENGTH);
    const chars = [...bytes].map((byte) => ALPHABET[byte & 31]).join('');
    codes.add(`${chars.slice(0, 4)}-${chars.slice(4)}`);
  }

  return [...codes];
}

/**
 * The canonical form of a code as typed (case, hyphen, spaces and Crockford's look-alikes i/l → 1, o → 0
 * forgiven), or undefined when it cannot be a code.
 */
export function normalizeBackupCode(input: string): string | undefined {
  const folded = input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  if (folded.length !== CODE_LENGTH || [...folded].some((char) => !ALPHABET.includes(char))) {
    return undefined;
  }

  return folded;
}

/** What is hashed for a code: bound to its user, so equal codes of two users never share a digest. */
export function backupCodeHashInput(userId: string, normalizedCode: string): string {
  return `${userId}:${normalizedCode}`;
}
