import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { assertValidRules, problemsAsDetails } from './rules.service';

const NOW = Date.parse('2026-03-01T10:00:00Z');

function failure(rules: unknown, now?: number): VivifiedError {
  try {
    assertValidRules(rules, now);
  } catch (error) {
    expect(error).toBeInstanceOf(VivifiedError);

    return error as VivifiedError;
  }
  throw new Error('expected the rules to be refused');
}

describe(assertValidRules.name, () => {
  it('accepts the ARCHITECTURE §7 example and an empty list', () => {
    expect(() =>
      assertValidRules(
        [
          { type: 'operator', caller: 'a', target: 'b', operations: ['get_user'] },
          { type: 'proxy', plugin: 'a', domains: ['api.example.org'] },
        ],
        NOW,
      ),
    ).not.toThrow();
    expect(() => assertValidRules([], NOW)).not.toThrow();
  });

  it('lists every problem in one VALIDATION_FAILED, grouped by path', () => {
    const error = failure([
      { type: 'operator', caller: 'A', target: 'b', operations: [] },
      { type: 'proxy', plugin: 'a', domains: ['*.com'], extra: true },
    ]);

    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.reason).toBe('invalid_rules');
    expect(error.message).toBe('the rules have 4 problems');
    expect(error.details?.map((detail) => detail.path)).toEqual([
      'rules[0].caller',
      'rules[0].operations',
      'rules[1].extra',
      'rules[1].domains[0]',
    ]);
  });

  it('checks grants against the clock only when given one', () => {
    const expired = [
      {
        type: 'break_glass',
        id: 'inc-1',
        principalId: 'u-1',
        classifications: ['phi'],
        startsAt: '2026-02-01T00:00:00Z',
        expiresAt: '2026-02-01T02:00:00Z',
        reason: 'outage',
      },
    ];

    expect(failure(expired, NOW).details).toEqual([
      { path: 'rules[0].expiresAt', messages: ['has already passed'] },
    ]);
    expect(() => assertValidRules(expired)).not.toThrow();
  });

  it('refuses NUL characters, which PostgreSQL cannot store', () => {
    const error = failure([
      {
        type: 'break_glass',
        id: 'inc-1',
        principalId: 'u-1',
        classifications: ['phi'],
        expiresAt: '2026-03-01T12:00:00Z',
        reason: 'out\u0000age',
      },
    ]);

    expect(error.details).toEqual([{ path: 'rules', messages: ['must not contain NUL characters'] }]);
  });
});

describe(problemsAsDetails.name, () => {
  it('keeps the order of first appearance and every message of a path', () => {
    expect(
      problemsAsDetails([
        { index: 0, path: 'rules[0].a', message: 'one' },
        { index: 1, path: 'rules[1].b', message: 'two' },
        { index: 0, path: 'rules[0].a', message: 'three' },
      ]),
    ).toEqual([
      { path: 'rules[0].a', messages: ['one', 'three'] },
      { path: 'rules[1].b', messages: ['two'] },
    ]);
  });
});
