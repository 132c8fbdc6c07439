import type { CustomTransportStrategy, MessageHandler } from '@nestjs/microservices';
import { Server } from '@nestjs/microservices';
import { context } from '@opentelemetry/api';
import type { Classification } from '@vivified/contracts';
import { ErrorCode, headers, parseClassification, parsePayload, VivifiedError } from '@vivified/contracts';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { isObservable, lastValueFrom } from 'rxjs';

import { decodeJson, encodeJson } from './codec';
import { ConsumerRunner } from './consumer-runner';
import type { HandledEvent, HandlerGuard, HandlerObserver, Principal, TransportLogger } from './context';
import { NatsRequestContext, silentLogger } from './context';
import type { ConsumerHandlerMeta, RpcHandlerMeta } from './decorators';
import { VIVIFIED_EXTRAS } from './decorators';
import { errorReply, toVivifiedError } from './errors';
import { endSpan, startInboundSpan, traceIdOf } from './trace';

/** Options of {@link NatsTransport}. */
export interface NatsTransportOptions {
  /** A connected nats.js connection; the transport does not close it (the service drains it last). */
  connection: NatsConnection;
  /** Queue group of every request/reply subscription: one per service, so replicas share the load. */
  queue: string;
  /** Policy hook for non-public handlers. Without one, only public handlers are reachable. */
  guard?: HandlerGuard;
  /** Told about every handled message. */
  observer?: HandlerObserver;
  /** Where the transport logs. */
  logger?: TransportLogger;
  /**
   * How long `close()` waits for handlers in flight, in milliseconds.
   * @default 10000
   */
  drainTimeoutMs?: number;
}

type Outcome = HandledEvent['outcome'];

const INVALID: ReadonlySet<ErrorCode> = new Set([ErrorCode.ValidationFailed, ErrorCode.BadRequest]);
const DENIED: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.Unauthenticated,
  ErrorCode.PolicyDenied,
  ErrorCode.PluginInactive,
]);

function outcomeOf(error: VivifiedError): Outcome {
  if (INVALID.has(error.code)) {
    return 'invalid';
  }

  return DENIED.has(error.code) ? 'denied' : 'error';
}

function classificationOf(msg: Msg): Classification[] {
  try {
    return parseClassification(msg.headers?.get(headers.classification));
  } catch (error) {
    throw new VivifiedError(ErrorCode.BadRequest, (error as Error).message, { cause: error });
  }
}

/**
 * NestJS custom transport strategy on nats.js (see ADR-0003). Request/reply handlers (`@Handle`) subscribe in
 * the service's queue group; JetStream handlers (`@Consume`) pull from durable consumers. Every inbound payload
 * is validated before the handler runs, and every non-public handler passes the guard first.
 */
export class NatsTransport extends Server implements CustomTransportStrategy {
  private readonly nc: NatsConnection;
  private readonly log: TransportLogger;
  private readonly subscriptions: Subscription[] = [];
  private readonly runners: ConsumerRunner[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly listeners = new Map<string, Array<(...args: unknown[]) => void>>();
  private closed = false;

  constructor(private readonly options: NatsTransportOptions) {
    super();
    this.nc = options.connection;
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Subscribes every handler; called by Nest when the microservice starts. Answers once the server has the
   * subscriptions (a flush round trip): a request sent from another connection right after `listen()` finds them
   * instead of getting "no responders".
   */
  listen(callback: (...optionalParams: unknown[]) => void): void {
    try {
      for (const [pattern, handler] of this.getHandlers()) {
        const meta = (handler.extras?.[VIVIFIED_EXTRAS] ?? undefined) as
          | RpcHandlerMeta
          | ConsumerHandlerMeta
          | undefined;
        if (!meta) {
          throw new Error(
            `handler for ${pattern} must use @Handle or @Consume from @vivified/nats-transport`,
          );
        }
        if (meta.kind === 'rpc') {
          this.subscribeRpc(meta, handler);
        } else {
          this.startConsumer(meta, handler);
        }
      }
      this.watchStatus();
    } catch (error) {
      callback(error);

      return;
    }
    this.nc.flush().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  /** Stops taking messages, waits for handlers in flight, and leaves the connection open. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    await Promise.allSettled([
      ...this.subscriptions.map((sub) => (this.nc.isClosed() ? undefined : sub.drain())),
      ...this.runners.map((runner) => runner.stop()),
    ]);
    const timeout = this.options.drainTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeout);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Registers a listener for connection status events (`disconnect`, `reconnect`, `error`, …). */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- the signature of Nest's Server.on
  on<EventKey extends string = string, EventCallback extends Function = Function>(
    event: EventKey,
    callback: EventCallback,
  ): void {
    const list = this.listeners.get(event) ?? [];
    list.push(callback as unknown as (...args: unknown[]) => void);
    this.listeners.set(event, list);
  }

  /** The underlying nats.js connection. */
  unwrap<T>(): T {
    return this.nc as T;
  }

  private subscribeRpc(meta: RpcHandlerMeta, handler: MessageHandler): void {
    const { subject } = meta.contract;
    const sub = this.nc.subscribe(subject, {
      queue: this.options.queue,
      callback: (error, msg) => {
        if (error) {
          this.log.error({ err: error, subject }, 'subscription error');

          return;
        }
        this.track(this.handleRpc(msg, meta, handler));
      },
    });
    this.subscriptions.push(sub);
    this.log.debug({ subject, queue: this.options.queue }, 'serving subject');
  }

  private startConsumer(meta: ConsumerHandlerMeta, handler: MessageHandler): void {
    const runner = new ConsumerRunner(this.nc, meta, handler, {
      logger: this.log,
      observer: this.options.observer,
    });
    this.runners.push(runner);
    runner.start();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handleRpc(msg: Msg, meta: RpcHandlerMeta, handler: MessageHandler): Promise<void> {
    const started = performance.now();
    const { contract } = meta;
    const { span, ctx } = startInboundSpan(contract.subject, 'server', msg.headers, {
      'messaging.system': 'nats',
      'messaging.destination.name': msg.subject,
      'messaging.operation.type': 'process',
    });
    let outcome: Outcome = 'ok';
    let failure: VivifiedError | undefined;
    try {
      const deadline = Number(msg.headers?.get(headers.deadline) || 0);
      if (deadline > 0 && deadline < Date.now()) {
        throw new VivifiedError(
          ErrorCode.Timeout,
          'the caller stopped waiting before the request was handled',
        );
      }
      const classification = classificationOf(msg);
      let payload = decodeJson(msg.data);
      let principal: Principal | undefined;
      if (contract.access.public !== true) {
        if (!this.options.guard) {
          throw new VivifiedError(ErrorCode.PolicyDenied, 'access denied', { reason: 'no_policy_guard' });
        }
        ({ principal, payload } = await this.options.guard.authorize({
          subject: msg.subject,
          headers: msg.headers,
          access: contract.access,
          classification,
          payload,
        }));
      }
      const value = parsePayload(contract.request, payload);
      const requestContext = new NatsRequestContext(
        msg.subject,
        msg.headers,
        traceIdOf(span),
        classification,
        principal,
      );
      const reply = await context.with(ctx, async () => {
        const result: unknown = await handler(value, requestContext);

        return isObservable(result) ? await lastValueFrom(result) : result;
      });
      if (msg.reply) {
        msg.respond(encodeJson(reply ?? {}));
      }
    } catch (error) {
      failure = toVivifiedError(error);
      outcome = outcomeOf(failure);
      if (failure.code === ErrorCode.Internal) {
        this.log.error({ err: failure.cause ?? failure, subject: contract.subject }, 'handler failed');
      }
      if (msg.reply) {
        const { headers: hdrs, data } = errorReply(failure);
        msg.respond(data, { headers: hdrs });
      }
    } finally {
      endSpan(span, failure);
      this.options.observer?.onHandled({
        subject: contract.subject,
        kind: 'rpc',
        outcome,
        durationSeconds: (performance.now() - started) / 1000,
      });
    }
  }

  private watchStatus(): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        for (const listener of this.listeners.get(status.type) ?? []) {
          listener(status.data);
        }
      }
    })().catch((error: unknown) => this.log.warn({ err: error }, 'status watch ended'));
  }
}
