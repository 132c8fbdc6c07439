import type { MessageHandler } from '@nestjs/microservices';
import { context } from '@opentelemetry/api';
import { ErrorCode, parsePayload } from '@vivified/contracts';
import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { isObservable, lastValueFrom } from 'rxjs';
import { setTimeout as sleep } from 'node:timers/promises';

import { decodeJson } from './codec';
import type { HandledEvent, HandlerObserver, TransportLogger } from './context';
import { NatsRequestContext } from './context';
import type { ConsumerHandlerMeta } from './decorators';
import { toVivifiedError } from './errors';
import { endSpan, startInboundSpan, traceIdOf } from './trace';

interface RunnerOptions {
  logger: TransportLogger;
  observer?: HandlerObserver;
}

/** Delay before the next delivery after a failed one: the consumer's backoff, last step repeating. */
export function redeliveryDelayMs(backoffMs: readonly number[], deliveryCount: number): number {
  if (backoffMs.length === 0) {
    return 1_000;
  }

  return backoffMs[Math.min(Math.max(deliveryCount - 1, 0), backoffMs.length - 1)] ?? 1_000;
}

/**
 * Pulls one durable consumer and hands each message to its handler: ack on success, nak with backoff on
 * failure, term when the payload can never be handled. Re-binds when the consumer is missing or the
 * connection comes back.
 */
export class ConsumerRunner {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly active = new Set<Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly meta: ConsumerHandlerMeta,
    private readonly handler: MessageHandler,
    private readonly options: RunnerOptions,
  ) {}

  /** Starts pulling in the background. */
  start(): void {
    this.loop = this.run();
  }

  /** Stops pulling and waits for the messages being handled. */
  async stop(): Promise<void> {
    this.stopped = true;
    // stop(), not close(): close() waits for the open pull request to expire (up to 30 s)
    this.messages?.stop();
    await this.loop;
    await Promise.allSettled([...this.active]);
  }

  private async run(): Promise<void> {
    const { stream, durable, maxAckPending } = this.meta.consumer;
    const concurrency = Math.max(1, this.meta.options.concurrency ?? 1);
    let attempt = 0;
    while (!this.stopped) {
      try {
        const consumer = await this.nc.jetstream().consumers.get(stream, durable);
        this.messages = await consumer.consume({ max_messages: Math.min(Math.max(maxAckPending, 1), 256) });
        attempt = 0;
        for await (const msg of this.messages) {
          const work = this.handle(msg);
          this.active.add(work);
          void work.finally(() => this.active.delete(work));
          if (this.active.size >= concurrency) {
            await Promise.race(this.active);
          }
        }
      } catch (error) {
        if (this.stopped) {
          break;
        }
        attempt += 1;
        this.options.logger.warn({ err: error, stream, durable, attempt }, 'consumer unavailable, retrying');
        await sleep(Math.min(250 * 2 ** attempt, 5_000));
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const started = performance.now();
    const { stream, durable, backoffMs } = this.meta.consumer;
    const { span, ctx } = startInboundSpan(`${stream} process`, 'consumer', msg.headers, {
      'messaging.system': 'nats',
      'messaging.destination.name': msg.subject,
      'messaging.consumer.group.name': durable,
      'messaging.operation.type': 'process',
    });
    let outcome: HandledEvent['outcome'] = 'ok';
    let failure: Error | undefined;
    try {
      const value = parsePayload(this.meta.payload, decodeJson(msg.data));
      const requestContext = new NatsRequestContext(msg.subject, msg.headers, traceIdOf(span), [], undefined);
      await context.with(ctx, async () => {
        const result: unknown = await this.handler(value, requestContext);
        if (isObservable(result)) {
          await lastValueFrom(result, { defaultValue: undefined });
        }
      });
      msg.ack();
    } catch (error) {
      const typed = toVivifiedError(error);
      failure = typed;
      if (typed.code === ErrorCode.ValidationFailed || typed.code === ErrorCode.BadRequest) {
        outcome = 'invalid';
        this.options.logger.error(
          { stream, durable, seq: msg.seq, subject: msg.subject, details: typed.details },
          'message can never be handled; terminated',
        );
        // no reason text: servers before 2.10.4 ignore "+TERM <reason>" and redeliver
        msg.term();
      } else {
        outcome = 'error';
        const delay = redeliveryDelayMs(backoffMs, msg.info.redeliveryCount);
        this.options.logger.warn(
          {
            err: typed.cause ?? typed,
            stream,
            durable,
            seq: msg.seq,
            deliveries: msg.info.redeliveryCount,
            delay,
          },
          'handler failed; redelivering',
        );
        msg.nak(delay);
      }
    } finally {
      endSpan(span, failure);
      this.options.observer?.onHandled({
        subject: `${stream}/${durable}`,
        kind: 'consumer',
        outcome,
        durationSeconds: (performance.now() - started) / 1000,
      });
    }
  }
}
