import { connectNats, decodeJson, encodeJson, fromNatsError, RequestMux } from '@vivified/nats-transport';
import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer, uniqueName } from '@vivified/testing';
import { ErrorCode } from '@vivified/contracts';
import type { NatsConnection } from 'nats';
import { DiscardPolicy, ErrorCode as NatsErrorCode, headers, NatsError } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('RequestMux against a real nats-server', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let responder: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    ({ nc } = await connectNats({ servers: server.url, name: 'mux-test' }));
    ({ nc: responder } = await connectNats({ servers: server.url, name: 'mux-responder' }));
    responder.subscribe('mux.echo', {
      callback: (_error, msg) => {
        const hdrs = headers();
        hdrs.set('Echo-Trace', msg.headers?.get('traceparent') ?? '');
        msg.respond(msg.data, { headers: hdrs });
      },
    });
    // answers out of order: a later request's reply first
    const held: Array<() => void> = [];
    responder.subscribe('mux.reversed', {
      callback: (_error, msg) => {
        held.push(() => msg.respond(msg.data));
        if (held.length === 3) {
          held.reverse().forEach((answer) => answer());
          held.length = 0;
        }
      },
    });
    responder.subscribe('mux.silent', { callback: () => undefined });
    await responder.flush();
  });

  afterAll(async () => {
    await responder?.close();
    await nc?.close();
    await server?.stop();
  });

  it('is one mux per connection', () => {
    expect(RequestMux.of(nc)).toBe(RequestMux.of(nc));
    expect(RequestMux.of(nc)).not.toBe(RequestMux.of(responder));
  });

  it('pairs every reply with its request, headers both ways, with 500 in flight', async () => {
    const mux = RequestMux.of(nc);
    const replies = await Promise.all(
      Array.from({ length: 500 }, (_, i) => {
        const hdrs = headers();
        hdrs.set('traceparent', `00-${String(i).padStart(32, '0')}-${'1'.repeat(16)}-01`);

        return mux.request('mux.echo', encodeJson({ i }), { timeoutMs: 5_000, headers: hdrs });
      }),
    );
    replies.forEach((reply, i) => {
      expect(decodeJson(reply.data)).toEqual({ i });
      expect(reply.headers?.get('Echo-Trace')).toBe(`00-${String(i).padStart(32, '0')}-${'1'.repeat(16)}-01`);
    });
    expect(mux.inFlight).toBe(0);
  });

  it('resolves replies that arrive out of order to their own requests', async () => {
    const mux = RequestMux.of(nc);
    const replies = await Promise.all(
      [1, 2, 3].map((n) => mux.request('mux.reversed', encodeJson({ n }), { timeoutMs: 5_000 })),
    );
    expect(replies.map((reply) => decodeJson(reply.data))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('rejects with no responders when nobody listens, mapped to UNAVAILABLE', async () => {
    const mux = RequestMux.of(nc);
    const failure = await mux
      .request('mux.nobody', encodeJson({}), { timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NatsError);
    expect((failure as NatsError).code).toBe(NatsErrorCode.NoResponders);
    expect(fromNatsError(failure, 'mux.nobody').code).toBe(ErrorCode.Unavailable);
    expect(mux.inFlight).toBe(0);
  });

  it('times out a silent responder, mapped to TIMEOUT, and ignores a late reply', async () => {
    const mux = RequestMux.of(nc);
    const started = Date.now();
    const failure = await mux
      .request('mux.silent', encodeJson({}), { timeoutMs: 150 })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect((failure as NatsError).code).toBe(NatsErrorCode.Timeout);
    expect(fromNatsError(failure, 'mux.silent').code).toBe(ErrorCode.Timeout);
    expect(mux.inFlight).toBe(0);
  });

  it('stores a durable publish once per msgId and answers the stream position', async () => {
    const jsm = await nc.jetstreamManager();
    const stream = uniqueName('MUX');
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const mux = RequestMux.of(nc);
    const first = await mux.publishDurable(`${stream}.a`, encodeJson({ a: 1 }), {
      timeoutMs: 5_000,
      headers: headers(),
      msgId: 'event-1',
    });
    const retry = await mux.publishDurable(`${stream}.a`, encodeJson({ a: 1 }), {
      timeoutMs: 5_000,
      headers: headers(),
      msgId: 'event-1',
    });
    const second = await mux.publishDurable(`${stream}.a`, encodeJson({ a: 2 }), {
      timeoutMs: 5_000,
      headers: headers(),
      msgId: 'event-2',
    });
    expect(first).toMatchObject({ stream, seq: 1, duplicate: false });
    expect(retry).toMatchObject({ stream, seq: 1, duplicate: true });
    expect(second).toMatchObject({ stream, seq: 2, duplicate: false });
    expect((await jsm.streams.info(stream)).state.messages).toBe(2);
    const stored = await (await nc.jetstream().streams.get(stream)).getMessage({ seq: 1 });
    expect(stored.header.get('Nats-Msg-Id')).toBe('event-1');
  });

  it('rejects a stream API error as a NatsError carrying api_error', async () => {
    const jsm = await nc.jetstreamManager();
    const stream = uniqueName('MUXFULL');
    // a stream that refuses new messages once it holds one
    await jsm.streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      max_msgs: 1,
      discard: DiscardPolicy.New,
    });
    const mux = RequestMux.of(nc);
    await mux.publishDurable(`${stream}.a`, encodeJson({}), { timeoutMs: 5_000 });
    const failure = await mux
      .publishDurable(`${stream}.a`, encodeJson({}), { timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NatsError);
    expect((failure as NatsError).api_error?.code).toBe(503);
    expect((failure as NatsError).api_error?.err_code).toBeGreaterThan(0);
  });

  it('fails what still waits when the connection closes', async () => {
    const { nc: own } = await connectNats({ servers: server.url, name: 'mux-closing' });
    const mux = RequestMux.of(own);
    const waiting = mux.request('mux.silent', encodeJson({}), { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await own.flush();
    await own.close();
    const failure = await waiting;
    expect((failure as NatsError).code).toBe(NatsErrorCode.ConnectionClosed);
    await expect(mux.request('mux.echo', encodeJson({}), { timeoutMs: 1_000 })).rejects.toMatchObject({
      code: NatsErrorCode.ConnectionClosed,
    });
  });
});
