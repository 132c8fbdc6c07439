/** Per-account lockout state, as stored in `user_login_state` (times in epoch milliseconds). */
export interface LoginState {
  /** Failures since the last successful login or lockout. */
  failedAttempts: number;
  /** Lockouts since the last successful login; each doubles the next lock. */
  lockouts: number;
  lockedUntil: number | null;
  lastFailureAt: number | null;
}

/** The lockout rules (docs/identity.md "Lockout and throttling"). */
export const lockoutPolicy = {
  /** Consecutive failures that lock the account. */
  maxFailures: 5,
  /** The first lock. */
  baseLockMs: 15 * 60_000,
  /** No lock is longer. */
  maxLockMs: 24 * 60 * 60_000,
  /** After this long without a failure, counters and escalation start over. */
  forgetAfterMs: 24 * 60 * 60_000,
} as const;

/** A state with nothing recorded. */
export const cleanLoginState: Readonly<LoginState> = {
  failedAttempts: 0,
  lockouts: 0,
  lockedUntil: null,
  lastFailureAt: null,
};

/** How long the n-th lockout (1-based) lasts: 15 min, doubling each time, at most 24 h. */
export function lockDurationMs(lockoutNumber: number): number {
  const doublings = Math.max(0, Math.min(lockoutNumber - 1, 16));

  return Math.min(lockoutPolicy.baseLockMs * 2 ** doublings, lockoutPolicy.maxLockMs);
}

/** Whether the account is locked at `now`. */
export function isLocked(state: LoginState, now: number): boolean {
  return state.lockedUntil !== null && state.lockedUntil > now;
}

/**
 * The state after a failed login at `now`, and whether this failure locked the account. Failures while locked
 * change nothing: they neither extend the lock nor count towards the next one.
 */
export function afterFailure(state: LoginState, now: number): { state: LoginState; lockedNow: boolean } {
  if (isLocked(state, now)) {
    return { state, lockedNow: false };
  }
  const quiet = state.lastFailureAt === null || now - state.lastFailureAt > lockoutPolicy.forgetAfterMs;
  const failedAttempts = (quiet ? 0 : state.failedAttempts) + 1;
  const lockouts = quiet ? 0 : state.lockouts;
  if (failedAttempts >= lockoutPolicy.maxFailures) {
    return {
      state: {
        failedAttempts: 0,
        lockouts: lockouts + 1,
        lockedUntil: now + lockDurationMs(lockouts + 1),
        lastFailureAt: now,
      },
      lockedNow: true,
    };
  }

  return {
    state: { failedAttempts, lockouts, lockedUntil: state.lockedUntil, lastFailureAt: now },
    lockedNow: false,
  };
}
