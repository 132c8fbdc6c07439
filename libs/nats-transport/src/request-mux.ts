import type { Msg, MsgHdrs, NatsConnection, PubAck, Subscription } from 'nats';
import { dynamicSubjects } from '@vivified/contracts';
import { createInbox, ErrorCode as NatsErrorCode, NatsError } from 'nats';

import { decodeJson } from './codec';

/** Options of one {@link RequestMux.request}. */
export interface MuxRequestOptions {
  /** How long to wait for the reply, in milliseconds. */
  timeoutMs: number;
  headers?: MsgHdrs;
}

/** Options of one {@link RequestMux.publishDurable}. */
export interface MuxPublishOptions extends MuxRequestOptions {
  /** `Nats-Msg-Id`: the stream stores a retry with the same id once. */
  msgId?: string;
}

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** The JetStream API error a stream answers a publish with. */
interface JsApiError {
  code: number;
  err_code?: number;
  description?: string;
}

/** The inbox prefix a connection was opened with (nats.js keeps it on the connection's options). */
function inboxPrefixOf(nc: NatsConnection): string {
  const options = (nc as { options?: { inboxPrefix?: unknown } }).options;

  return typeof options?.inboxPrefix === 'string' && options.inboxPrefix.length > 0
    ? options.inboxPrefix
    : '_INBOX';
}

/**
 * Request/reply for a service's hot paths (the event-router's store and deliveries, the gateway's operator lane):
 * the same wire protocol as `nc.request` — one wildcard inbox subscription per connection, a reply subject per
 * request, the server's 503 for no responders — without nats.js's per-request objects: its request keeps a
 * deferred, a timer wrapper, a map entry keyed by a fresh NUID and, on every successful reply, builds a
 * "cancelled" error to settle the promise it already settled. Here a request is one map entry, one timer and one
 * promise. Failures are the same nats.js errors (`TIMEOUT`, `503` no responders), so `fromNatsError` maps them.
 *
 * One mux per connection ({@link RequestMux.of}); it subscribes on first use, with the connection's inbox prefix.
 */
export class RequestMux {
  private static readonly byConnection = new WeakMap<NatsConnection, RequestMux>();

  private readonly pending = new Map<string, Pending>();
  private subscription: Subscription | undefined;
  private inbox = '';
  private next = 0;

  private constructor(private readonly nc: NatsConnection) {}

  /** The connection's mux. */
  static of(nc: NatsConnection): RequestMux {
    let mux = RequestMux.byConnection.get(nc);
    if (!mux) {
      mux = new RequestMux(nc);
      RequestMux.byConnection.set(nc, mux);
    }

    return mux;
  }

  /** Requests in flight (for tests and metrics). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `data` to `subject` and resolves with the reply; rejects with nats.js's TIMEOUT or 503 errors. */
  request(subject: string, data: Uint8Array, options: MuxRequestOptions): Promise<Msg> {
    if (this.nc.isClosed()) {
      return Promise.reject(NatsError.errorForCode(NatsErrorCode.ConnectionClosed));
    }
    this.subscribe();
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    const token = this.next.toString(36);

    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(token)) {
          reject(NatsError.errorForCode(NatsErrorCode.Timeout));
        }
      }, options.timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      try {
        this.nc.publish(subject, data, {
          reply: this.inbox + token,
          ...(options.headers ? { headers: options.headers } : {}),
        });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /**
   * Publishes to a JetStream stream subject and resolves with the stream's ack once stored; the stream's API
   * errors reject as nats.js's `NatsError` with `api_error` (as `js.publish` does).
   */
  async publishDurable(subject: string, data: Uint8Array, options: MuxPublishOptions): Promise<PubAck> {
    if (options.msgId !== undefined) {
      if (!options.headers) {
        throw new TypeError('publishDurable with a msgId needs a headers object to carry Nats-Msg-Id');
      }
      options.headers.set('Nats-Msg-Id', options.msgId);
    }
    const reply = await this.request(subject, data, options);
    const ack = decodeJson(reply.data) as Partial<PubAck> & { error?: JsApiError };
    if (ack.error) {
      const failure = new NatsError(ack.error.description ?? 'JetStream API error', String(ack.error.code));
      failure.api_error = {
        code: ack.error.code,
        err_code: ack.error.err_code ?? 0,
        description: ack.error.description ?? '',
      };
      throw failure;
    }
    if (typeof ack.stream !== 'string' || ack.stream === '' || typeof ack.seq !== 'number') {
      throw NatsError.errorForCode(NatsErrorCode.JetStreamInvalidAck);
    }

    return {
      stream: ack.stream,
      seq: ack.seq,
      duplicate: ack.duplicate === true,
      ...(ack.domain ? { domain: ack.domain } : {}),
    };
  }

  private subscribe(): void {
    if (this.subscription && !this.subscription.isClosed()) {
      return;
    }
    const inbox = createInbox(inboxPrefixOf(this.nc));
    this.inbox = `${inbox}.`;
    const subscription = this.nc.subscribe(dynamicSubjects.inboxReplies(inbox), {
      callback: (error, msg) => {
        if (error) {
          this.failAll(error);

          return;
        }
        this.settle(msg);
      },
    });
    this.subscription = subscription;
    // a closed connection (or a subscription the server refused) fails what still waits, at once
    void subscription.closed.then(() => {
      if (this.subscription === subscription) {
        this.subscription = undefined;
      }
      this.failAll(NatsError.errorForCode(NatsErrorCode.ConnectionClosed));
    });
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length);
    const pending = this.pending.get(token);
    if (!pending) {
      return; // a reply after its timeout, or a second reply
    }
    this.pending.delete(token);
    clearTimeout(pending.timer);
    // the server's own answer when nobody listens: a 503 status without a body (a service's 503 has a body)
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      pending.reject(NatsError.errorForCode(NatsErrorCode.NoResponders));
    } else {
      pending.resolve(msg);
    }
  }

  private failAll(error: Error): void {
    for (const [token, pending] of this.pending) {
      this.pending.delete(token);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}
