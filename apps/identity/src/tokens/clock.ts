/** The time the token half reads; tests provide their own {@link CLOCK} to move it forward. */
export interface Clock {
  now(): Date;
}

/**
 * Injection token of an optional {@link Clock}. Nothing provides it in production, so {@link systemClock}
 * applies; a test module may provide it globally to control token lifetimes and session timeouts.
 */
export const CLOCK = Symbol('CLOCK');

/** Real time. */
export const systemClock: Clock = { now: () => new Date() };

/** Seconds since the epoch, as JWT claims count. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
