import { constantTimeEqual } from '@vivified/crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

/** RFC 6238 as ARCHITECTURE §7 fixes it: SHA-1, 6 digits, 30 s steps, one step of drift either way. */
export const totpParameters = {
  issuer: 'Vivified',
  algorithm: 'SHA1',
  digits: 6,
  periodSeconds: 30,
  /** Steps accepted either side of the current one. */
  window: 1,
  /** Bytes of a new secret (160 bits, RFC 4226 §4). */
  secretBytes: 20,
} as const;

/** The time step of an instant (epoch milliseconds). */
export function timeStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / totpParameters.periodSeconds);
}

/** The code of a base32 secret at a time step. */
export function totpCodeAt(secretBase32: string, step: number): string {
  return HOTP.generate({
    secret: Secret.fromBase32(secretBase32),
    algorithm: totpParameters.algorithm,
    digits: totpParameters.digits,
    counter: step,
  });
}

/**
 * The time step a code belongs to, when it is one of the accepted steps around `nowMs` and later than
 * `lastStep` (the last step this secret accepted: a code is good once). Every candidate is computed and compared
 * in constant time, whether or not an earlier one matched.
 */
export function matchTotpStep(
  secretBase32: string,
  code: string,
  nowMs: number,
  lastStep: number | null,
): number | undefined {
  const current = timeStep(nowMs);
  let matched: number | undefined;
  for (let step = current - totpParameters.window; step <= current + totpParameters.window; step++) {
    const equal = constantTimeEqual(totpCodeAt(secretBase32, step), code);
    if (equal && matched === undefined && (lastStep === null || step > lastStep)) {
      matched = step;
    }
  }

  return matched;
}

/** A new random secret, base32. */
export function newTotpSecret(): string {
  return new Secret({ size: totpParameters.secretBytes }).base32;
}

/** The `otpauth://` URL authenticator apps scan (issuer Vivified, label the username). */
export function otpauthUrl(secretBase32: string, username: string): string {
  return new TOTP({
    issuer: totpParameters.issuer,
    label: username,
    secret: Secret.fromBase32(secretBase32),
    algorithm: totpParameters.algorithm,
    digits: totpParameters.digits,
    period: totpParameters.periodSeconds,
  }).toString();
}
