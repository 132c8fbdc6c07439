import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { AuditOutcome } from '@vivified/contracts';
import type { AuditEmitter, AuditInput, ServiceLogger } from '@vivified/service-kit';

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

/**
 * Emits a lane call's record after the reply has gone out: building and validating a record costs more than the
 * rest of the call, and the caller should not wait for it (the sidecar has already waited for a PHI allow's record).
 */
export function auditLater(audit: AuditEmitter, input: AuditInput, logger: ServiceLogger): void {
  setImmediate(() => {
    audit.emit(input).catch((error: unknown) => logger.error({ err: error }, 'lane audit failed'));
  });
}
