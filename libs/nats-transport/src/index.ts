export { VivifiedClient } from './client';
export type { PublishOptions, RequestOptions, VivifiedClientOptions } from './client';
export { decodeJson, encodeJson } from './codec';
export { connectNats } from './connection';
export type { NatsConnectOptions } from './connection';
export { redeliveryDelayMs } from './consumer-runner';
export { NatsRequestContext, silentLogger } from './context';
export type {
  GuardInput,
  GuardResult,
  HandledEvent,
  HandlerGuard,
  HandlerObserver,
  Principal,
  TransportLogger,
} from './context';
export { Consume, Handle } from './decorators';
export type { ConsumeOptions } from './decorators';
export { errorReply, fromNatsError, readReply, toVivifiedError } from './errors';
export { PassThroughRpcExceptionFilter } from './exception-filter';
export { consumerConfig, ensureBucket, ensureConsumer, ensureStream, streamConfig } from './jetstream';
export type { EnsureOptions } from './jetstream';
export { KvMirror } from './kv-mirror';
export type { KvMirrorChange, KvMirrorHandler } from './kv-mirror';
export { KvWatch } from './kv-watch';
export type { KvWatchHandler, KvWatchOptions } from './kv-watch';
export { NatsTransport } from './server';
export type { NatsTransportOptions } from './server';
export { extractTraceContext, injectTraceContext } from './trace';
export { childTraceparent, newTraceId, traceIdOfTraceparent } from './trace-ids';
export { RequestMux } from './request-mux';
export type { MuxPublishOptions, MuxRequestOptions } from './request-mux';
