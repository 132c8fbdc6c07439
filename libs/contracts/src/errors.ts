/**
 * Wire error codes (ARCHITECTURE §3). Every service maps its own errors to these; the NATS layer sends the
 * status in `Nats-Service-Error-Code` and the gateway maps the same codes to HTTP. DO NOT CHANGE THE VALUES.
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  BadRequest = 'BAD_REQUEST',
  Unauthenticated = 'UNAUTHENTICATED',
  PolicyDenied = 'POLICY_DENIED',
  PluginInactive = 'PLUGIN_INACTIVE',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  RateLimited = 'RATE_LIMITED',
  Internal = 'INTERNAL',
  Unavailable = 'UNAVAILABLE',
  CircuitOpen = 'CIRCUIT_OPEN',
  Timeout = 'TIMEOUT',
}

/** The HTTP-like status of each code. */
export const errorStatus: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.PolicyDenied]: 403,
  [ErrorCode.PluginInactive]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Internal]: 500,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.CircuitOpen]: 503,
  [ErrorCode.Timeout]: 504,
};

/** One invalid field of a request. */
export interface FieldError {
  /** Dotted path of the field (`manifest.events.publishes.0`). */
  path: string;
  /** What is wrong with it, one message per failed constraint. */
  messages: string[];
}

/** The body of every error reply: `{"error":{…}}`. */
export interface ErrorEnvelope {
  error: {
    /** Machine-readable code. */
    code: ErrorCode;
    /** Human-readable message; never holds secrets or PHI. */
    message: string;
    /** Machine-readable reason (e.g. `phi_trait_missing`). */
    reason?: string;
    /** Id of the audit record written for this error. */
    auditId?: string;
    /** Field errors of a validation failure. */
    details?: FieldError[];
  };
}

/** Options of a {@link VivifiedError}. */
export interface VivifiedErrorOptions {
  reason?: string;
  auditId?: string;
  details?: FieldError[];
  cause?: unknown;
}

/** A typed error that crosses the wire as an {@link ErrorEnvelope}. */
export class VivifiedError extends Error {
  readonly reason?: string;
  readonly auditId?: string;
  readonly details?: FieldError[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: VivifiedErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VivifiedError';
    this.reason = options.reason;
    this.auditId = options.auditId;
    this.details = options.details;
  }

  /** HTTP-like status of this error. */
  get status(): number {
    return errorStatus[this.code];
  }

  /** The wire form of this error. */
  toEnvelope(): ErrorEnvelope {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.reason === undefined ? {} : { reason: this.reason }),
        ...(this.auditId === undefined ? {} : { auditId: this.auditId }),
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }

  /** Rebuilds an error from its wire form; an unknown code becomes {@link ErrorCode.Internal}. */
  static fromEnvelope(envelope: ErrorEnvelope): VivifiedError {
    const { code, message, reason, auditId, details } = envelope.error;
    const known = (Object.values(ErrorCode) as string[]).includes(code) ? code : ErrorCode.Internal;

    return new VivifiedError(known, message, { reason, auditId, details });
  }
}

/** Whether a value has the shape of an {@link ErrorEnvelope}. */
export function isErrorEnvelope(value: unknown): value is ErrorEnvelope {
  if (typeof value !== 'object' || value === null || !('error' in value)) {
    return false;
  }
  const error = value.error;

  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}
