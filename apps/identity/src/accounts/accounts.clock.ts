/** The time the accounts half reads (lockout, throttle, TOTP steps); tests may provide their own. */
export interface AccountsClock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Injection token of the {@link AccountsClock}; the module provides {@link systemAccountsClock}. */
export const ACCOUNTS_CLOCK = Symbol('ACCOUNTS_CLOCK');

/** Real time. */
export const systemAccountsClock: AccountsClock = { now: () => Date.now() };
