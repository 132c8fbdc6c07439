import type { Access, Classification } from '@vivified/contracts';
import type { MsgHdrs } from 'nats';

/** What a handler learns about the message besides its payload (the second handler argument). */
export class NatsRequestContext {
  constructor(
    /** The subject the message came on. */
    readonly subject: string,
    /** Its headers (Authorization, traceparent, Vivified-Classification, …). */
    readonly headers: MsgHdrs | undefined,
    /** Trace id of the handler's span, when tracing is on. */
    readonly traceId: string | undefined,
    /** Classifications the caller declared. */
    readonly classification: Classification[],
    /** The caller, once a guard has authenticated it. */
    readonly principal: Principal | undefined,
  ) {}
}

/** An authenticated caller, as the policy guard resolves it. */
export interface Principal {
  kind: 'user' | 'plugin' | 'service';
  id: string;
  traits: string[];
  roles: string[];
}

/** What a guard sees before a non-public handler runs. */
export interface GuardInput {
  subject: string;
  headers: MsgHdrs | undefined;
  access: Access;
  classification: Classification[];
  payload: unknown;
}

/** A guard's verdict: allow (with the caller and possibly a sanitized payload) or throw a typed error. */
export interface GuardResult {
  principal: Principal;
  /** The payload the handler sees; the guard may strip fields (sanitize). */
  payload: unknown;
}

/**
 * The policy hook every non-public handler passes (the policy sidecar implements it). Without a guard, only
 * handlers declared public in libs/contracts are reachable: default deny.
 */
export interface HandlerGuard {
  authorize(input: GuardInput): Promise<GuardResult>;
}

/** Outcome of one handled message, for metrics. */
export interface HandledEvent {
  subject: string;
  kind: 'rpc' | 'consumer';
  outcome: 'ok' | 'error' | 'invalid' | 'denied';
  durationSeconds: number;
}

/** Told about every handled message (service-kit counts them). */
export interface HandlerObserver {
  onHandled(event: HandledEvent): void;
}

/** The logger the transport writes to (pino-compatible subset). */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything. */
export const silentLogger: TransportLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
