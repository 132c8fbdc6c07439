import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { AuditOutcome } from '@vivified/contracts';

const DENIED: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.Unauthenticated,
  ErrorCode.PolicyDenied,
  ErrorCode.PluginInactive,
  ErrorCode.RateLimited,
]);
const ERRORS: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.Timeout,
  ErrorCode.Unavailable,
  ErrorCode.CircuitOpen,
  ErrorCode.Internal,
]);

/** The audit outcome of a lane call that ended with this error (or succeeded, without one). */
export function outcomeOf(error: VivifiedError | undefined): AuditOutcome {
  if (error === undefined) {
    return 'success';
  }
  if (DENIED.has(error.code)) {
    return 'denied';
  }

  return ERRORS.has(error.code) ? 'error' : 'failure';
}

/** The error a lane call ended with, typed. */
export function laneError(error: unknown): VivifiedError {
  return error instanceof VivifiedError
    ? error
    : new VivifiedError(ErrorCode.Internal, 'internal error', { cause: error });
}
