import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { AuditOutcome } from '@vivified/contracts';
import type { OnModuleDestroy } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { AuditEmitter, AuditInput, ServiceLogger } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_LOGGER } from '@vivified/service-kit';

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

/** How long lane records wait to be emitted together (their publishes then share socket writes). */
const AUDIT_BATCH_MS = 10;

/**
 * Emits the lanes' per-call records after the replies have gone out, in small batches: building, validating and
 * publishing a record costs more than the rest of a call, the caller should not wait for it, and publishes made
 * in one tick share the connection's socket writes. (The sidecar has already waited for a PHI allow's own record.)
 */
@Injectable()
export class LaneAuditQueue implements OnModuleDestroy {
  private pending: AuditInput[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  /** Queues one record; it is emitted within {@link AUDIT_BATCH_MS}. */
  add(input: AuditInput): void {
    this.pending.push(input);
    this.timer ??= setTimeout(() => this.flush(), AUDIT_BATCH_MS);
  }

  onModuleDestroy(): void {
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const input of batch) {
      this.audit
        .emit(input)
        .catch((error: unknown) => this.logger.error({ err: error }, 'lane audit failed'));
    }
  }
}
