import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { AuditOutcome } from '@vivified/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { AuditEmitter, AuditInput } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

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
 * Emits the lanes' per-call records after the replies have gone out: the caller does not wait for them, and the
 * emitter gathers them for a few milliseconds into one message (ADR-0007). (The sidecar has already waited for a
 * PHI allow's own record.)
 */
@Injectable()
export class LaneAuditQueue {
  constructor(@Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter) {}

  /** Queues one record. */
  add(input: AuditInput): void {
    this.audit.emitLater(input);
  }
}
