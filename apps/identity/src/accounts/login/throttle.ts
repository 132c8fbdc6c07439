/** Failed logins counted for one client address in the current fixed window (times in epoch milliseconds). */
export interface ThrottleWindow {
  windowStart: number;
  failures: number;
}

/** The per-address rules (docs/identity.md "Lockout and throttling"). */
export const throttlePolicy = {
  /** Failures from one address within a window after which its logins are refused. */
  maxFailures: 20,
  /** Window length. */
  windowMs: 15 * 60_000,
} as const;

/** Whether an address may try now and, when not, how many seconds until its window ends. */
export type ThrottleVerdict = { throttled: false } | { throttled: true; retryAfterSeconds: number };

/** The verdict for an address whose window is `window` (undefined: nothing recorded). */
export function throttleVerdict(window: ThrottleWindow | undefined, now: number): ThrottleVerdict {
  if (!window || now - window.windowStart >= throttlePolicy.windowMs) {
    return { throttled: false };
  }
  if (window.failures < throttlePolicy.maxFailures) {
    return { throttled: false };
  }

  return {
    throttled: true,
    retryAfterSeconds: Math.max(1, Math.ceil((window.windowStart + throttlePolicy.windowMs - now) / 1000)),
  };
}
