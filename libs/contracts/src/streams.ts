/**
 * JetStream streams, durable consumers and KV buckets (ARCHITECTURE §3), each with the service that owns it
 * and ensures it at start. DO NOT CHANGE THE NAMES: they are the wire contract. Limits may change.
 */
import type { ServiceName } from './subjects';
import { subjects } from './subjects';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A stream definition, independent of the client library. */
export interface StreamDefinition {
  /** Stream name. */
  name: string;
  /** The service that creates and updates it. */
  owner: ServiceName;
  /** Subjects it binds. Streams never bind request subjects. */
  subjects: string[];
  /** Where it keeps messages. */
  storage: 'file' | 'memory';
  /** How long it keeps a message, in milliseconds; 0 keeps it forever. */
  maxAgeMs: number;
  /** The window, in milliseconds, in which a repeated `Nats-Msg-Id` is dropped. */
  duplicateWindowMs: number;
  /** Largest message, in bytes. */
  maxMsgSize: number;
  /** What it does when full. */
  discard: 'old' | 'new';
}

/** A durable pull consumer definition. */
export interface ConsumerDefinition {
  /** Durable name. */
  durable: string;
  /** The stream it reads. */
  stream: string;
  /** Only messages on this subject (optional). */
  filterSubject?: string;
  /** How long a delivered message may stay unacknowledged before it is redelivered (crashed handler), in ms. */
  ackWaitMs: number;
  /** How many times a message is delivered before it is given up. */
  maxDeliver: number;
  /** Delays before a message whose handler failed is delivered again, in milliseconds; the last repeats. */
  backoffMs: number[];
  /** How many messages may be unacknowledged at once. */
  maxAckPending: number;
}

/** A KV bucket definition. */
export interface BucketDefinition {
  /** Bucket name. */
  name: string;
  /** The service that creates it. */
  owner: ServiceName;
  /** How many revisions it keeps per key. */
  history: number;
  /** Where it keeps values. */
  storage: 'file' | 'memory';
  /** How long a value lives, in milliseconds; 0 keeps it forever. */
  ttlMs: number;
}

/** Streams of the platform. */
export const streams = {
  /** Stored canonical events; only the event-router writes here. */
  events: {
    name: 'VIVIFIED_EVENTS',
    owner: 'event-router',
    subjects: [subjects.storedEvents.all],
    storage: 'file',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: 2 * 60 * 1000,
    maxMsgSize: 1024 * 1024,
    discard: 'old',
  },
  /** Audit records from every service; the audit service stores them in PostgreSQL. */
  audit: {
    name: 'VIVIFIED_AUDIT',
    owner: 'audit',
    subjects: [subjects.auditRecords.all],
    storage: 'file',
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: 2 * 60 * 1000,
    maxMsgSize: 256 * 1024,
    discard: 'new',
  },
  /** Dead letters of the canonical lane. */
  deadLetters: {
    name: 'VIVIFIED_DLQ',
    owner: 'event-router',
    subjects: [subjects.deadLetters.all],
    storage: 'file',
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: 2 * 60 * 1000,
    maxMsgSize: 1024 * 1024 + 64 * 1024,
    discard: 'new',
  },
} as const satisfies Record<string, StreamDefinition>;

/** Durable consumers with fixed names. Per-subscription consumers are named by the event-router. */
export const consumers = {
  /** The audit service's ingest of VIVIFIED_AUDIT. */
  auditIngest: {
    durable: 'audit-ingest',
    stream: streams.audit.name,
    ackWaitMs: 30_000,
    maxDeliver: -1,
    backoffMs: [1_000, 5_000, 30_000],
    maxAckPending: 10_000,
  },
} as const satisfies Record<string, ConsumerDefinition>;

/** KV buckets of the platform. */
export const buckets = {
  /** Plugin id → status, traits, manifest digest. */
  plugins: { name: 'vivified_plugins', owner: 'registry', history: 5, storage: 'file', ttlMs: 0 },
  /** The current signed policy bundle. */
  policy: { name: 'vivified_policy', owner: 'policy', history: 10, storage: 'file', ttlMs: 0 },
  /** Public signing keys (JWKS). */
  jwks: { name: 'vivified_jwks', owner: 'identity', history: 5, storage: 'file', ttlMs: 0 },
  /** Platform feature flags. */
  config: { name: 'vivified_config', owner: 'policy', history: 10, storage: 'file', ttlMs: 0 },
  /** The canonical lane's schema registry: event type → its versions (the event-router's PostgreSQL is the source). */
  eventTypes: { name: 'vivified_event_types', owner: 'event-router', history: 5, storage: 'file', ttlMs: 0 },
  /** Operator-lane circuit breaker state per target plugin, for the console (written by the gateway). */
  breakers: { name: 'vivified_breakers', owner: 'gateway', history: 1, storage: 'memory', ttlMs: 0 },
  /** User id → `{ active, validAfter }`: the user's access tokens cut short (deactivation, password, MFA, roles). */
  sessions: { name: 'vivified_sessions', owner: 'identity', history: 1, storage: 'file', ttlMs: 0 },
} as const satisfies Record<string, BucketDefinition>;

/** The streams a service owns. */
export function streamsOwnedBy(service: ServiceName): StreamDefinition[] {
  return Object.values(streams).filter((stream) => stream.owner === service);
}

/** The buckets a service owns. */
export function bucketsOwnedBy(service: ServiceName): BucketDefinition[] {
  return Object.values(buckets).filter((bucket) => bucket.owner === service);
}
