import 'reflect-metadata';

import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

import type { Classification } from '../headers';
import { classifications } from '../headers';

/** Categories of audit records; each is published on `vivified.audit.<category>`. */
export const auditCategories = [
  'auth',
  'policy',
  'plugin',
  'event',
  'rpc',
  'proxy',
  'config',
  'user',
  'key',
  'audit',
  'system',
] as const;

/** One audit category. */
export type AuditCategory = (typeof auditCategories)[number];

/** Outcomes of an audited action. */
export const auditOutcomes = ['success', 'failure', 'denied', 'error'] as const;

/** One outcome. */
export type AuditOutcome = (typeof auditOutcomes)[number];

/** Who did it. */
export class AuditActor {
  /** Kind of principal. */
  @IsIn(['user', 'plugin', 'service', 'anonymous'])
  kind!: 'user' | 'plugin' | 'service' | 'anonymous';

  /** Its id (`user:<uuid>`, `plugin:<id>`, `service:<name>`). */
  @IsString()
  @MaxLength(200)
  id!: string;
}

/**
 * An audit record as services publish it to VIVIFIED_AUDIT (ARCHITECTURE §8). `details` is sanitized by the
 * emitter: no PHI, secret or token ever goes in it.
 */
export class AuditRecord {
  /** Unique id, also the `Nats-Msg-Id` of its publish (dedup). */
  @IsUUID()
  id!: string;

  /** When it happened (ISO 8601). */
  @IsISO8601()
  ts!: string;

  /** Category. */
  @IsIn(auditCategories)
  category!: AuditCategory;

  /** What happened (`login`, `plugin.approve`, `policy.decide`). */
  @IsString()
  @Matches(/^[a-z][a-z0-9_.-]{0,99}$/)
  action!: string;

  /** Outcome. */
  @IsIn(auditOutcomes)
  outcome!: AuditOutcome;

  /** Who did it. */
  @ValidateNested()
  @Type(() => AuditActor)
  actor!: AuditActor;

  /** What it was done to (`plugin:acme-crm`). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target?: string;

  /** Plugin involved, if any. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  pluginId?: string;

  /** Trace id of the request. */
  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-f]{32}$/)
  traceId?: string;

  /** Classifications of the data involved. */
  @IsIn(classifications, { each: true })
  @ArrayUnique()
  classification!: Classification[];

  /** Whether PHI was involved. */
  @IsBoolean()
  phiInvolved!: boolean;

  /** The emitting service. */
  @IsString()
  @MaxLength(64)
  service!: string;

  /** Sanitized details. */
  @IsObject()
  details!: Record<string, unknown>;
}
