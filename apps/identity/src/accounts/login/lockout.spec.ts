import { describe, expect, it } from 'vitest';

import type { LoginState } from './lockout';
import { afterFailure, cleanLoginState, isLocked, lockDurationMs, lockoutPolicy } from './lockout';

const MINUTE = 60_000;
const T0 = Date.UTC(2025, 0, 1);

function failTimes(state: LoginState, count: number, at: number): { state: LoginState; locks: number } {
  let current = state;
  let locks = 0;
  for (let i = 0; i < count; i++) {
    const next = afterFailure(current, at + i);
    current = next.state;
    locks += next.lockedNow ? 1 : 0;
  }

  return { state: current, locks };
}

describe('lockDurationMs', () => {
  it('is 15 minutes, doubling with each lockout, capped at 24 hours', () => {
    expect(lockDurationMs(1)).toBe(15 * MINUTE);
    expect(lockDurationMs(2)).toBe(30 * MINUTE);
    expect(lockDurationMs(3)).toBe(60 * MINUTE);
    expect(lockDurationMs(7)).toBe(16 * 60 * MINUTE);
    expect(lockDurationMs(8)).toBe(24 * 60 * MINUTE);
    expect(lockDurationMs(1_000)).toBe(lockoutPolicy.maxLockMs);
  });
});

describe('afterFailure', () => {
  it('locks on the fifth consecutive failure, not before', () => {
    const four = failTimes(cleanLoginState, 4, T0);
    expect(four.locks).toBe(0);
    expect(four.state.failedAttempts).toBe(4);
    expect(isLocked(four.state, T0 + 10)).toBe(false);

    const fifth = afterFailure(four.state, T0 + 10);
    expect(fifth.lockedNow).toBe(true);
    expect(fifth.state.lockedUntil).toBe(T0 + 10 + 15 * MINUTE);
    expect(fifth.state.failedAttempts).toBe(0);
    expect(fifth.state.lockouts).toBe(1);
  });

  it('unlocks by time and doubles the next lock', () => {
    const first = failTimes(cleanLoginState, 5, T0).state;
    expect(isLocked(first, T0 + 15 * MINUTE - 1)).toBe(true);
    const after = T0 + 16 * MINUTE;
    expect(isLocked(first, after)).toBe(false);

    const second = failTimes(first, 5, after);
    expect(second.locks).toBe(1);
    expect(second.state.lockouts).toBe(2);
    expect(second.state.lockedUntil).toBe(after + 4 + 30 * MINUTE);
  });

  it('ignores failures while locked: no extension, nothing counted', () => {
    const locked = failTimes(cleanLoginState, 5, T0).state;
    const during = afterFailure(locked, T0 + MINUTE);

    expect(during.lockedNow).toBe(false);
    expect(during.state).toEqual(locked);
  });

  it('starts over after a quiet day', () => {
    const four = failTimes(cleanLoginState, 4, T0).state;
    const later = afterFailure(four, T0 + lockoutPolicy.forgetAfterMs + MINUTE);

    expect(later.state.failedAttempts).toBe(1);
    expect(later.lockedNow).toBe(false);

    const locked = failTimes(cleanLoginState, 5, T0).state;
    const nextDay = failTimes(locked, 5, T0 + 2 * lockoutPolicy.forgetAfterMs);
    expect(nextDay.state.lockouts).toBe(1);
    expect(nextDay.state.lockedUntil).toBe(T0 + 2 * lockoutPolicy.forgetAfterMs + 4 + 15 * MINUTE);
  });
});
