import 'reflect-metadata';

import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

import type { Classification } from '../headers';
import { classifications } from '../headers';

/** An event id: 8–128 characters of `[A-Za-z0-9_-]` (a UUID, a ULID). It is also the `Nats-Msg-Id`. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;

/** A schema version `major.minor`. */
export const SCHEMA_VERSION_PATTERN = /^(?:0|[1-9]\d{0,3})\.(?:0|[1-9]\d{0,3})$/;

/** A 32-hex trace id (W3C). */
export const TRACE_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Who published an event. */
export class EventSource {
  /** The publishing plugin's id (or `service:<name>` for a core service). */
  @IsString()
  @MaxLength(128)
  pluginId!: string;
}

/**
 * The canonical-lane envelope (ARCHITECTURE §3, **contract**). The publish request body is this envelope; the
 * publisher picks `eventId` (also the `Nats-Msg-Id`, so a retry is stored once), the core checks `source` against
 * the caller and fills what is missing. The delivered message is the stored envelope.
 */
export class EventEnvelope {
  @IsOptional()
  @IsString()
  @Matches(EVENT_ID_PATTERN)
  eventId?: string;

  /** The type; must be the type of the publish subject when given. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  eventType?: string;

  /** `major.minor`; the active version of the newest major when missing. */
  @IsOptional()
  @IsString()
  @Matches(SCHEMA_VERSION_PATTERN)
  schemaVersion?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  occurredAt?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => EventSource)
  source?: EventSource;

  @IsOptional()
  @IsString()
  @Matches(TRACE_ID_PATTERN)
  traceId?: string;

  /** Classifications the publisher adds to the type's own. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @ArrayUnique()
  @IsIn(classifications, { each: true })
  classification?: Classification[];

  /** The payload, validated against the type's schema. */
  @IsObject()
  payload!: Record<string, unknown>;
}

/** A stored (and delivered) envelope: every field filled. */
export interface StoredEventEnvelope {
  eventId: string;
  eventType: string;
  schemaVersion: string;
  occurredAt: string;
  source: { pluginId: string };
  traceId: string;
  classification: Classification[];
  payload: Record<string, unknown>;
}

/** The reply to a publish: sent only once the event is stored. */
export class EventPublishReply {
  @IsString()
  eventId!: string;

  /** Sequence in `VIVIFIED_EVENTS`. */
  seq!: number;

  /** True when the stream had already stored this event id (a retry). */
  @IsOptional()
  duplicate?: boolean;
}

/** What a plugin answers to a delivery (`vivified.v1.plugin.<id>.deliver`): anything but an error envelope acks. */
export interface DeliveryAck {
  ok?: boolean;
}
