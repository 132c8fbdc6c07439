import { ErrorCode, VivifiedError } from '@vivified/contracts';

import { commonPasswords } from './common-passwords';

/** Why a password is refused. */
export type PasswordViolation = 'too_short' | 'too_long' | 'equals_username' | 'common_password';

/** The password rules (NIST SP 800-63B §5.1.1.2: length, a blocklist, no composition rules). */
export const passwordPolicy = {
  /** Fewest characters (Unicode code points). */
  minLength: 12,
  /** Most characters; longer input is refused before hashing. */
  maxLength: 256,
} as const;

/** Every rule a password breaks, in a stable order; empty when it is acceptable. */
export function passwordViolations(password: string, username: string): PasswordViolation[] {
  const violations: PasswordViolation[] = [];
  const length = [...password].length;
  if (length < passwordPolicy.minLength) {
    violations.push('too_short');
  }
  if (length > passwordPolicy.maxLength) {
    violations.push('too_long');
  }
  const folded = password.normalize('NFKC').toLowerCase();
  if (folded === username.normalize('NFKC').toLowerCase()) {
    violations.push('equals_username');
  }
  if (commonPasswords.has(folded) || /^(.)\1+$/u.test(folded)) {
    violations.push('common_password');
  }

  return violations;
}

/** Human-readable text of a violation, for error details. */
export function describeViolation(violation: PasswordViolation): string {
  switch (violation) {
    case 'too_short':
      return `must be at least ${passwordPolicy.minLength} characters`;
    case 'too_long':
      return `must be at most ${passwordPolicy.maxLength} characters`;
    case 'equals_username':
      return 'must not be the username';
    case 'common_password':
      return 'is too common';
  }
}

/** Throws `VALIDATION_FAILED` listing every rule the password breaks (reason: the first one). */
export function assertPasswordAcceptable(password: string, username: string): void {
  const violations = passwordViolations(password, username);
  if (violations.length > 0) {
    throw new VivifiedError(ErrorCode.ValidationFailed, 'the password does not meet the password policy', {
      reason: violations[0],
      details: [{ path: 'password', messages: violations.map(describeViolation) }],
    });
  }
}
