import { describe, expect, it } from 'vitest';

import { constantTimeEqual, randomToken } from './random';

describe(randomToken.name, () => {
  it('is base64url of 32 random bytes by default', () => {
    const token = randomToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(new Set(Array.from({ length: 100 }, () => randomToken())).size).toBe(100);
  });

  it('takes a byte count and refuses nonsense', () => {
    expect(Buffer.from(randomToken(16), 'base64url')).toHaveLength(16);
    expect(Buffer.from(randomToken(64), 'base64url')).toHaveLength(64);
    for (const bad of [0, -1, 1.5, Number.NaN, 1_000_000]) {
      expect(() => randomToken(bad)).toThrow(RangeError);
    }
  });
});

describe(constantTimeEqual.name, () => {
  it('compares strings and bytes', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual('abc', Buffer.from('abc'))).toBe(true);
    expect(constantTimeEqual('é', Buffer.from('é', 'latin1'))).toBe(false);
  });

  it('returns false on a length mismatch without throwing', () => {
    expect(constantTimeEqual('secret', 'secret!')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(1))).toBe(false);
  });
});
