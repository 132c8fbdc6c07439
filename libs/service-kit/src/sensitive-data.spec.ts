import { describe, expect, it } from 'vitest';

import {
  MASK,
  isPhiKey,
  isSecretKey,
  isSensitiveKey,
  maskSensitive,
  sanitizeDetails,
} from './sensitive-data';

describe('sensitive keys', () => {
  it.each([
    'password',
    'Authorization',
    'client_secret',
    'clientSecret',
    'set-cookie',
    'x-api-key',
    'natsCreds',
    'totp',
  ])('treats %s as a secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['ssn', 'DOB', 'date_of_birth', 'patientName', 'mrn', 'primaryDiagnosis'])(
    'treats %s as PHI',
    (key) => {
      expect(isPhiKey(key)).toBe(true);
    },
  );

  it.each(['username', 'pluginId', 'eventType', 'status', 'method'])('leaves %s alone', (key) => {
    expect(isSecretKey(key) || isPhiKey(key)).toBe(false);
  });

  it('gives the same answers from memory, past the number of keys it remembers', () => {
    const keys = Array.from({ length: 5_000 }, (_, i) => (i % 2 === 0 ? `resetToken${i}` : `field${i}`));
    const first = keys.map((key) => isSensitiveKey(key));
    const again = keys.map((key) => isSensitiveKey(key));

    expect(again).toEqual(first);
    expect(first.filter(Boolean)).toHaveLength(2_500);
    expect([isSensitiveKey('resetToken0'), isSensitiveKey('field1')]).toEqual([true, false]);
  });
});

describe(maskSensitive.name, () => {
  it('masks at any depth, in arrays too, without touching the input', () => {
    const input = {
      user: 'ann',
      a: { b: [{ c: { Password: 'p' } }] },
      headers: { authorization: 'Bearer t' },
    };

    const sut = maskSensitive(input);

    expect(sut).toEqual({
      user: 'ann',
      a: { b: [{ c: { Password: MASK } }] },
      headers: { authorization: MASK },
    });
    expect(input.a.b[0]?.c.Password).toBe('p');
  });

  it('returns the same object when nothing is sensitive', () => {
    const input = { user: 'ann', nested: { list: [1, 2, { ok: true }] } };

    expect(maskSensitive(input)).toBe(input);
  });

  it('masks an object reachable twice, and survives cycles', () => {
    const shared = { token: 't' };
    const cyclic: Record<string, unknown> = { shared, again: shared };
    cyclic['self'] = cyclic;

    const sut = maskSensitive(cyclic);

    expect(sut['shared']).toEqual({ token: MASK });
    expect(sut['again']).toEqual({ token: MASK });
  });
});

describe(sanitizeDetails.name, () => {
  it('masks secrets and PHI, bounds size and makes values JSON-safe', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;

    const sut = sanitizeDetails(
      {
        reason: 'x'.repeat(20),
        patient: { name: 'Jane Roe' },
        nested: { deeper: { clientSecret: 's', ok: 1, list: [1, 2, 3, 4] } },
        at: new Date('2024-01-02T03:04:05.000Z'),
        big: 10n,
        fn: () => 1,
        err: new Error('contains input'),
        cyclic,
      },
      { maxStringLength: 5, maxArrayLength: 2 },
    );

    expect(sut).toEqual({
      reason: 'xxxxx…',
      patient: MASK,
      nested: { deeper: { clientSecret: MASK, ok: 1, list: [1, 2] } },
      at: '2024-01-02T03:04:05.000Z',
      big: '10',
      err: { name: 'Error' },
      cyclic: { name: 'loop', self: '[CIRCULAR]' },
    });
  });

  it('cuts values deeper than the limit', () => {
    expect(sanitizeDetails({ a: { b: { c: 1 } } }, { maxDepth: 2 })).toEqual({ a: { b: '[TRUNCATED]' } });
  });
});
