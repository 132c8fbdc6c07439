import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { assertPasswordAcceptable, passwordPolicy, passwordViolations } from './password-policy';

describe('passwordViolations', () => {
  it('accepts a long, uncommon password', () => {
    expect(passwordViolations('Correct-Horse-Battery-9', 'admin')).toEqual([]);
  });

  it('refuses fewer than 12 characters and counts code points, not UTF-16 units', () => {
    expect(passwordViolations('short-pass1', 'alice')).toEqual(['too_short']);
    expect(passwordViolations('a'.repeat(11) + 'b', 'alice')).toEqual([]);
    // 11 emoji are 22 UTF-16 units but 11 characters
    expect(passwordViolations('🔑'.repeat(11), 'alice')).toContain('too_short');
  });

  it('refuses more than 256 characters', () => {
    expect(passwordViolations('x1'.repeat(passwordPolicy.maxLength / 2), 'alice')).toEqual([]);
    expect(passwordViolations('x1'.repeat(passwordPolicy.maxLength / 2) + 'y', 'alice')).toEqual([
      'too_long',
    ]);
  });

  it('refuses the username in any case', () => {
    expect(passwordViolations('Administrator-7', 'administrator-7')).toEqual(['equals_username']);
  });

  it('refuses common passwords in any case and one character repeated', () => {
    expect(passwordViolations('Password1234', 'alice')).toEqual(['common_password']);
    expect(passwordViolations('QWERTY123456', 'alice')).toEqual(['common_password']);
    expect(passwordViolations('zzzzzzzzzzzzzz', 'alice')).toEqual(['common_password']);
  });

  it('lists every rule broken', () => {
    expect(passwordViolations('bob', 'bob')).toEqual(['too_short', 'equals_username']);
  });
});

describe('assertPasswordAcceptable', () => {
  it('throws VALIDATION_FAILED with the first reason and every message', () => {
    let error: unknown;
    try {
      assertPasswordAcceptable('bob', 'bob');
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(VivifiedError);
    expect((error as VivifiedError).code).toBe(ErrorCode.ValidationFailed);
    expect((error as VivifiedError).reason).toBe('too_short');
    expect((error as VivifiedError).details?.[0]?.messages).toHaveLength(2);
  });

  it('passes an acceptable password', () => {
    expect(() => assertPasswordAcceptable('a perfectly fine phrase', 'alice')).not.toThrow();
  });
});
