import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { errors } from 'undici';

import { typedCause } from './egress-guard';

/** How {@link egressError} names the far side of a failed request and the reasons of its errors. */
export interface EgressErrorWords {
  /** The far side in messages: `the webhook`, `upstream`, `the target`. */
  peer: string;
  /** `reason` of a timeout (absent: none). */
  timeoutReason?: string;
  /** `reason` of an unreachable peer. */
  unreachableReason: string;
}

/** Whether an undici or abort error says the request ran out of time. */
export function isTimeout(error: unknown): boolean {
  return (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError ||
    (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
  );
}

/**
 * The typed error of a failed outbound request of the core: a typed error found in its causes (an address refused
 * by the {@link EgressGuard}, a body over its cap) as it is; an oversized answer `PAYLOAD_TOO_LARGE`
 * (`response_too_large`); a timeout `TIMEOUT`; anything else `UNAVAILABLE`.
 */
export function egressError(error: unknown, words: EgressErrorWords): VivifiedError {
  const typed = typedCause(error);
  if (typed) {
    return typed;
  }
  if (error instanceof errors.ResponseExceededMaxSizeError) {
    return new VivifiedError(ErrorCode.PayloadTooLarge, `the answer of ${words.peer} is too large`, {
      reason: 'response_too_large',
    });
  }
  if (isTimeout(error)) {
    return new VivifiedError(ErrorCode.Timeout, `${words.peer} did not answer in time`, {
      ...(words.timeoutReason === undefined ? {} : { reason: words.timeoutReason }),
      cause: error,
    });
  }

  return new VivifiedError(ErrorCode.Unavailable, `${words.peer} is unreachable`, {
    reason: words.unreachableReason,
    cause: error,
  });
}
