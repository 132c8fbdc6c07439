import 'reflect-metadata';

import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';

import type { Classification } from '../headers';
import type { PayloadClass } from '../validation';

/** An identifier field of a canonical payload: 1–200 printable characters. */
const ID_MAX = 200;

/** `UserCreated@1.0`: a user account was created. */
export class UserCreatedV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  userId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(64)
  username!: string;

  @IsEmail()
  @MaxLength(320)
  email!: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  roles?: string[];
}

/** `UserUpdated@1.0`: fields of a user account changed (only the changed ones are named). */
export class UserUpdatedV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  userId!: string;

  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  changedFields!: string[];

  @IsOptional()
  @IsEmail()
  @MaxLength(320)
  email?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  roles?: string[];
}

/** `UserDeactivated@1.0`: a user account can no longer sign in. */
export class UserDeactivatedV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  userId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

/** `MessageSendRequested@1.0`: a plugin asks a messaging plugin to send a message. */
export class MessageSendRequestedV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  messageId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(64)
  channel!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(500)
  recipient!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  subject?: string;

  @IsString()
  @MaxLength(64 * 1024)
  body!: string;
}

/** `MessageSent@1.0`: a message left the platform. */
export class MessageSentV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  messageId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(64)
  channel!: string;

  @IsISO8601()
  sentAt!: string;

  @IsOptional()
  @IsString()
  @MaxLength(ID_MAX)
  providerMessageId?: string;
}

/** `NotificationRequested@1.0`: a notification should reach a user. */
export class NotificationRequestedV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  notificationId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  userId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title!: string;

  @IsString()
  @MaxLength(4096)
  body!: string;

  @IsOptional()
  @IsIn(['low', 'normal', 'high'])
  priority?: 'low' | 'normal' | 'high';
}

/** `NotificationSent@1.0`: a notification was delivered to a channel. */
export class NotificationSentV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  notificationId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(64)
  channel!: string;

  @IsISO8601()
  sentAt!: string;
}

/** `DocumentStored@1.0`: a document was stored (its content never rides on the event). */
export class DocumentStoredV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  documentId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  contentType!: string;

  @IsOptional()
  @Matches(/^[0-9a-f]{64}$/)
  sha256?: string;

  @IsOptional()
  @IsString()
  @MaxLength(ID_MAX)
  ownerId?: string;
}

/** `PatientRecordAccessed@1.0` (PHI): someone read a patient's record. */
export class PatientRecordAccessedV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  patientId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  recordId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(ID_MAX)
  accessedBy!: string;
}

/** One field of an event schema, as the schema registry describes it (JSON-schema-ish). */
export class EventFieldSpec {
  /** Field name (a JSON property). */
  @IsString()
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/)
  name!: string;

  /** JSON type of the value. */
  @IsIn(['string', 'number', 'integer', 'boolean', 'object', 'array'])
  type!: EventFieldType;

  /** Whether the field must be present. */
  @IsOptional()
  required?: boolean;

  /** Whether the field holds personal or health data; a sanitize decision strips it. */
  @IsOptional()
  @IsIn(['pii', 'phi'])
  sensitive?: 'pii' | 'phi';

  /** Longest string / array, when bounded. */
  @IsOptional()
  maxLength?: number;
}

/** The JSON types a registered field may have. */
export type EventFieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

/** A canonical event type built into the platform. */
export interface CanonicalEventDefinition {
  /** `UserCreated`. */
  readonly type: string;
  /** `major.minor`. */
  readonly version: string;
  /** Classification every event of the type carries at least. */
  readonly classification: readonly Classification[];
  /** The payload class. */
  readonly payload: PayloadClass;
  /** The payload's fields, for the type catalog. */
  readonly fields: readonly EventFieldSpec[];
  /** One line for the catalog. */
  readonly summary: string;
}

const f = (
  name: string,
  type: EventFieldType,
  required = true,
  sensitive?: 'pii' | 'phi',
): EventFieldSpec => ({
  name,
  type,
  required,
  ...(sensitive ? { sensitive } : {}),
});

/**
 * The canonical events of ARCHITECTURE §3 (**contract**: a breaking change is a new major version). Plugins add
 * namespaced types (`acme.invoice.paid`) through the event-router's schema registry.
 */
export const canonicalEvents: readonly CanonicalEventDefinition[] = [
  {
    type: 'UserCreated',
    version: '1.0',
    classification: ['pii'],
    payload: UserCreatedV1,
    fields: [
      f('userId', 'string'),
      f('username', 'string'),
      f('email', 'string', true, 'pii'),
      f('roles', 'array', false),
    ],
    summary: 'A user account was created.',
  },
  {
    type: 'UserUpdated',
    version: '1.0',
    classification: ['pii'],
    payload: UserUpdatedV1,
    fields: [
      f('userId', 'string'),
      f('changedFields', 'array'),
      f('email', 'string', false, 'pii'),
      f('roles', 'array', false),
    ],
    summary: 'Fields of a user account changed.',
  },
  {
    type: 'UserDeactivated',
    version: '1.0',
    classification: ['internal'],
    payload: UserDeactivatedV1,
    fields: [f('userId', 'string'), f('reason', 'string', false)],
    summary: 'A user account was deactivated.',
  },
  {
    type: 'MessageSendRequested',
    version: '1.0',
    classification: ['pii'],
    payload: MessageSendRequestedV1,
    fields: [
      f('messageId', 'string'),
      f('channel', 'string'),
      f('recipient', 'string', true, 'pii'),
      f('subject', 'string', false),
      f('body', 'string'),
    ],
    summary: 'A message should be sent.',
  },
  {
    type: 'MessageSent',
    version: '1.0',
    classification: ['internal'],
    payload: MessageSentV1,
    fields: [
      f('messageId', 'string'),
      f('channel', 'string'),
      f('sentAt', 'string'),
      f('providerMessageId', 'string', false),
    ],
    summary: 'A message was sent.',
  },
  {
    type: 'NotificationRequested',
    version: '1.0',
    classification: ['internal'],
    payload: NotificationRequestedV1,
    fields: [
      f('notificationId', 'string'),
      f('userId', 'string'),
      f('title', 'string'),
      f('body', 'string'),
      f('priority', 'string', false),
    ],
    summary: 'A notification should reach a user.',
  },
  {
    type: 'NotificationSent',
    version: '1.0',
    classification: ['internal'],
    payload: NotificationSentV1,
    fields: [f('notificationId', 'string'), f('channel', 'string'), f('sentAt', 'string')],
    summary: 'A notification was delivered.',
  },
  {
    type: 'DocumentStored',
    version: '1.0',
    classification: ['internal'],
    payload: DocumentStoredV1,
    fields: [
      f('documentId', 'string'),
      f('contentType', 'string'),
      f('sha256', 'string', false),
      f('ownerId', 'string', false),
    ],
    summary: 'A document was stored.',
  },
  {
    type: 'PatientRecordAccessed',
    version: '1.0',
    classification: ['phi'],
    payload: PatientRecordAccessedV1,
    fields: [
      f('patientId', 'string', true, 'phi'),
      f('recordId', 'string', true, 'phi'),
      f('accessedBy', 'string'),
    ],
    summary: "Someone read a patient's record (PHI).",
  },
];

/** The canonical definition of a type name, if it is one. */
export function canonicalEvent(type: string): CanonicalEventDefinition | undefined {
  return canonicalEvents.find((definition) => definition.type === type);
}
