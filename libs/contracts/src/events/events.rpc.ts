import 'reflect-metadata';

import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

import type { Classification } from '../headers';
import { classifications } from '../headers';
import { EVENT_TYPE_PATTERN } from '../registry/manifest';
import type { Access } from '../rpc';
import { defineRpc } from '../rpc';
import { subjects } from '../subjects';
import { EventFieldSpec } from './canonical-events';
import { SCHEMA_VERSION_PATTERN } from './envelope';

/** A namespaced plugin event type without version: `acme.invoice.paid`. */
export const NAMESPACED_EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_-]{0,62}(?:\.[a-z][a-z0-9_-]{0,62}){1,5}$/;

/** `{eventTypes: [...]}` of subscribe and unsubscribe: the caller's own subscriptions only. */
export class EventSubscriptionRequest {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  @Matches(EVENT_TYPE_PATTERN, { each: true })
  eventTypes!: string[];
}

/** States of a subscription. */
export const subscriptionStates = ['active', 'paused', 'quarantined'] as const;

/** One state. */
export type SubscriptionState = (typeof subscriptionStates)[number];

/** One durable subscription (a JetStream consumer per plugin and type). */
export class SubscriptionView {
  /** Also the durable consumer's name and the dead-letter subject token. */
  id!: string;
  pluginId!: string;
  eventType!: string;
  /** `manifest` (from `events.subscribes` on activation) or `api` (subscribe request). */
  origin!: 'manifest' | 'api';
  state!: SubscriptionState;
  /** Deliveries in flight at once (1 keeps order). */
  maxAckPending!: number;
  createdAt!: string;
  /** Stored events not yet delivered to this subscription, when known. */
  pending?: number;
}

/** The caller's subscriptions. */
export class SubscriptionListReply {
  subscriptions!: SubscriptionView[];
}

/** Lists the caller's own subscriptions. */
export class SubscriptionListRequest {}

/** Lists the event types. */
export class EventTypeListRequest {
  /** Only this type (every version). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  type?: string;
}

/** One version of an event type in the schema registry. */
export class EventTypeView {
  type!: string;
  version!: string;
  classification!: Classification[];
  fields!: EventFieldSpec[];
  /** `core` for canonical types, else the plugin that owns the namespace. */
  owner!: string;
  /** Whether this is the active version of its major. */
  active!: boolean;
  summary?: string;
}

/** The schema registry's types. */
export class EventTypeListReply {
  types!: EventTypeView[];
}

/** Registers a version of a namespaced plugin type (`acme.invoice.paid@1.0`). */
export class EventTypeRegisterRequest {
  @IsString()
  @Matches(NAMESPACED_EVENT_TYPE_PATTERN)
  type!: string;

  @IsString()
  @Matches(SCHEMA_VERSION_PATTERN)
  version!: string;

  /** The plugin that owns the namespace and publishes the type. */
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{2,62}$/)
  owner!: string;

  @IsArray()
  @ArrayMaxSize(5)
  @ArrayUnique()
  @IsIn(classifications, { each: true })
  classification!: Classification[];

  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => EventFieldSpec)
  fields!: EventFieldSpec[];

  /** Make this the active version of its major (default true). */
  @IsOptional()
  activate?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  summary?: string;
}

/** Replays a subscription's dead letters to its plugin (admin). */
export class DeadLetterReplayRequest {
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/)
  subscriptionId!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

/** What a replay did. */
export class DeadLetterReplayReply {
  replayed!: number;
  failed!: number;
  remaining!: number;
}

/** Lifts a quarantine or pause of a subscription (admin). */
export class SubscriptionResumeRequest {
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/)
  subscriptionId!: string;
}

/** Asks for the calling plugin's webhook signing secret. */
export class WebhookSecretRequest {}

/** How the plugin verifies the signed POSTs of the canonical lane. */
export class WebhookSecretReply {
  /** The HMAC-SHA256 key (base64url text, used as given). */
  secret!: string;
  /** `HMAC-SHA256` over `<Vivified-Timestamp>.<raw body>`, sent as `Vivified-Signature: v1=<hex>`. */
  algorithm!: string;
  signatureHeader!: string;
  timestampHeader!: string;
}

/**
 * Access of a publish on `vivified.v1.events.publish.<EventType>`, for a type of the given classification. It is
 * served on a wildcard subject, so it is not in the subject-keyed contract map: the event-router authorizes each
 * request with this access itself.
 */
export function eventPublishAccess(classification: readonly Classification[]): Access {
  return { action: 'events.publish', kinds: ['plugin', 'service'], classification };
}

/** The event-router's request/reply contracts besides publish. */
export const eventsContracts = {
  [subjects.events.subscribe]: defineRpc({
    subject: subjects.events.subscribe,
    request: EventSubscriptionRequest,
    reply: SubscriptionListReply,
    access: { action: 'events.subscribe', kinds: ['plugin'] },
    summary:
      'Subscribes the calling plugin to event types (a durable consumer per type); answers its subscriptions.',
  }),
  [subjects.events.unsubscribe]: defineRpc({
    subject: subjects.events.unsubscribe,
    request: EventSubscriptionRequest,
    reply: SubscriptionListReply,
    access: { action: 'events.unsubscribe', kinds: ['plugin'] },
    summary: "Removes the calling plugin's own subscriptions to event types; never another plugin's.",
  }),
  [subjects.events.subscriptions]: defineRpc({
    subject: subjects.events.subscriptions,
    request: SubscriptionListRequest,
    reply: SubscriptionListReply,
    access: { action: 'events.subscribe', kinds: ['plugin'] },
    summary: "The calling plugin's subscriptions with their state and pending count.",
  }),
  [subjects.events.types]: defineRpc({
    subject: subjects.events.types,
    request: EventTypeListRequest,
    reply: EventTypeListReply,
    access: { action: 'traits.read' },
    summary: 'The schema registry: canonical and registered plugin event types, every version.',
  }),
  [subjects.events.registerType]: defineRpc({
    subject: subjects.events.registerType,
    request: EventTypeRegisterRequest,
    reply: EventTypeView,
    access: { action: 'plugins.register', kinds: ['user'] },
    summary: 'Registers a version of a namespaced plugin event type (plugin managers).',
  }),
  [subjects.events.deadLetterReplay]: defineRpc({
    subject: subjects.events.deadLetterReplay,
    request: DeadLetterReplayRequest,
    reply: DeadLetterReplayReply,
    access: { action: 'plugins.enable', kinds: ['user'] },
    summary: "Delivers a subscription's dead letters to its plugin again (plugin managers).",
    timeoutMs: 60_000,
  }),
  [subjects.events.webhookSecret]: defineRpc({
    subject: subjects.events.webhookSecret,
    request: WebhookSecretRequest,
    reply: WebhookSecretReply,
    access: { action: 'events.subscribe', kinds: ['plugin'] },
    summary: "The calling plugin's webhook signing secret, to verify the lane's signed POSTs.",
  }),
  [subjects.events.subscriptionResume]: defineRpc({
    subject: subjects.events.subscriptionResume,
    request: SubscriptionResumeRequest,
    reply: SubscriptionView,
    access: { action: 'plugins.enable', kinds: ['user'] },
    summary: 'Lifts the quarantine of a subscription (plugin managers).',
  }),
} as const;
