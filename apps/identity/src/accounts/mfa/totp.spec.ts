import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';

import { matchTotpStep, newTotpSecret, otpauthUrl, timeStep, totpCodeAt } from './totp';

// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", 8-digit vectors; ours are their last 6 digits.
const RFC_SECRET = Secret.fromLatin1('12345678901234567890').base32;

describe('totp', () => {
  it('matches the RFC 6238 SHA-1 test vectors (6 digits)', () => {
    expect(totpCodeAt(RFC_SECRET, timeStep(59_000))).toBe('287082');
    expect(totpCodeAt(RFC_SECRET, timeStep(1_111_111_109_000))).toBe('081804');
    expect(totpCodeAt(RFC_SECRET, timeStep(1_234_567_890_000))).toBe('005924');
    expect(totpCodeAt(RFC_SECRET, timeStep(2_000_000_000_000))).toBe('279037');
  });

  it('agrees with otpauth for the current time', () => {
    const secret = newTotpSecret();
    const now = Date.now();
    const expected = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: now });

    expect(totpCodeAt(secret, timeStep(now))).toBe(expected);
  });

  it('accepts the current step and one step either side, nothing further', () => {
    const secret = newTotpSecret();
    const now = 1_700_000_000_000;
    const step = timeStep(now);

    expect(matchTotpStep(secret, totpCodeAt(secret, step), now, null)).toBe(step);
    expect(matchTotpStep(secret, totpCodeAt(secret, step - 1), now, null)).toBe(step - 1);
    expect(matchTotpStep(secret, totpCodeAt(secret, step + 1), now, null)).toBe(step + 1);
    expect(matchTotpStep(secret, totpCodeAt(secret, step - 2), now, null)).toBeUndefined();
    expect(matchTotpStep(secret, totpCodeAt(secret, step + 2), now, null)).toBeUndefined();
  });

  it('refuses a step at or before the last accepted one (a code is good once)', () => {
    const secret = newTotpSecret();
    const now = 1_700_000_000_000;
    const step = timeStep(now);
    const code = totpCodeAt(secret, step);

    expect(matchTotpStep(secret, code, now, step)).toBeUndefined();
    expect(matchTotpStep(secret, code, now, step + 1)).toBeUndefined();
    expect(matchTotpStep(secret, code, now, step - 1)).toBe(step);
    // the next step's code is still good after the current one was used
    expect(matchTotpStep(secret, totpCodeAt(secret, step + 1), now, step)).toBe(step + 1);
  });

  it('refuses a wrong code', () => {
    const secret = newTotpSecret();
    const now = 1_700_000_000_000;
    const accepted = [-1, 0, 1].map((delta) => totpCodeAt(secret, timeStep(now) + delta));
    let wrong = 0;
    while (accepted.includes(String(wrong).padStart(6, '0'))) {
      wrong++;
    }

    expect(matchTotpStep(secret, String(wrong).padStart(6, '0'), now, null)).toBeUndefined();
    expect(matchTotpStep(secret, '', now, null)).toBeUndefined();
  });

  it('makes 160-bit secrets and an otpauth URL with issuer Vivified and the username', () => {
    const secret = newTotpSecret();
    expect(Secret.fromBase32(secret).bytes).toHaveLength(20);

    const url = new URL(otpauthUrl(secret, 'alice'));
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe('/Vivified:alice');
    expect(url.searchParams.get('issuer')).toBe('Vivified');
    expect(url.searchParams.get('secret')).toBe(secret);
    expect(url.searchParams.get('algorithm')).toBe('SHA1');
    expect(url.searchParams.get('digits')).toBe('6');
    expect(url.searchParams.get('period')).toBe('30');
  });
});
