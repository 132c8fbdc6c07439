import type { BucketDefinition, ConsumerDefinition, StreamDefinition } from '@vivified/contracts';
import type { ConsumerConfig, JetStreamManager, KV, NatsConnection, StreamConfig } from 'nats';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  NatsError,
  nanos,
  RetentionPolicy,
  StorageType,
} from 'nats';

const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
const CONSUMER_NOT_FOUND = 10014;

/** Options of the ensure helpers. */
export interface EnsureOptions {
  /**
   * Replicas of streams and buckets (3 on a NATS cluster).
   * @default 1
   */
  replicas?: number;
}

function apiErrorCode(error: unknown): number | undefined {
  return error instanceof NatsError ? error.api_error?.err_code : undefined;
}

/** The nats.js stream configuration of a contract stream definition. */
export function streamConfig(def: StreamDefinition, options: EnsureOptions = {}): Partial<StreamConfig> {
  return {
    name: def.name,
    subjects: [...def.subjects],
    storage: def.storage === 'file' ? StorageType.File : StorageType.Memory,
    retention: RetentionPolicy.Limits,
    max_age: nanos(def.maxAgeMs),
    duplicate_window: nanos(def.duplicateWindowMs),
    max_msg_size: def.maxMsgSize,
    discard: def.discard === 'old' ? DiscardPolicy.Old : DiscardPolicy.New,
    num_replicas: options.replicas ?? 1,
  };
}

/** The nats.js consumer configuration of a contract consumer definition. */
export function consumerConfig(def: ConsumerDefinition): Partial<ConsumerConfig> {
  return {
    durable_name: def.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(def.ackWaitMs),
    max_deliver: def.maxDeliver,
    // no server-side backoff: the server would take its first step as the ack wait and redeliver messages
    // still being handled; failed handlers nak with the backoff delay instead (ConsumerRunner)
    max_ack_pending: def.maxAckPending,
    ...(def.filterSubject === undefined ? {} : { filter_subject: def.filterSubject }),
  };
}

/**
 * Creates a stream, or brings an existing one's mutable settings up to the definition. Safe to call from every
 * replica at once.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  def: StreamDefinition,
  options: EnsureOptions = {},
): Promise<void> {
  const wanted = streamConfig(def, options);
  try {
    const info = await jsm.streams.info(def.name);
    const current = info.config;
    const drift =
      JSON.stringify([...current.subjects].sort()) !== JSON.stringify([...(wanted.subjects ?? [])].sort()) ||
      current.max_age !== wanted.max_age ||
      current.duplicate_window !== wanted.duplicate_window ||
      current.max_msg_size !== wanted.max_msg_size ||
      current.discard !== wanted.discard;
    if (drift) {
      await jsm.streams.update(def.name, { ...current, ...wanted });
    }
  } catch (error) {
    if (apiErrorCode(error) !== STREAM_NOT_FOUND) {
      throw error;
    }
    try {
      await jsm.streams.add(wanted);
    } catch (addError) {
      if (apiErrorCode(addError) !== STREAM_NAME_IN_USE) {
        throw addError;
      }
    }
  }
}

/** Creates a durable consumer, or updates an existing one to the definition. */
export async function ensureConsumer(jsm: JetStreamManager, def: ConsumerDefinition): Promise<void> {
  const wanted = consumerConfig(def);
  try {
    await jsm.consumers.info(def.stream, def.durable);
    await jsm.consumers.update(def.stream, def.durable, wanted);
  } catch (error) {
    if (apiErrorCode(error) !== CONSUMER_NOT_FOUND) {
      throw error;
    }
    await jsm.consumers.add(def.stream, wanted);
  }
}

/** Creates a KV bucket if it is missing and binds to it. */
export async function ensureBucket(
  nc: NatsConnection,
  def: BucketDefinition,
  options: EnsureOptions = {},
): Promise<KV> {
  return nc.jetstream().views.kv(def.name, {
    history: def.history,
    storage: def.storage === 'file' ? StorageType.File : StorageType.Memory,
    ttl: def.ttlMs,
    replicas: options.replicas ?? 1,
  });
}
