import 'reflect-metadata';

import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

import type { Classification } from '../headers';
import type { Access } from '../rpc';
import { defineRpc } from '../rpc';
import { subjects } from '../subjects';
import type { AuditCategory, AuditOutcome } from './audit-record';
import { AuditActor, auditCategories, auditOutcomes } from './audit-record';

/** Users who may read, export and verify the audit trail and read the compliance report. */
export const auditViewerTraits = ['audit_viewer'] as const;

/** Page sizes of the audit query. */
export const auditQueryLimits = { defaultLimit: 100, maxLimit: 1000 } as const;

/** Filters and paging of `GET /v1/audit` and of the export. Every filter is optional; all given must match. */
export class AuditQueryRequest {
  /** Records that happened at or after this instant (ISO 8601). */
  @IsOptional()
  @IsISO8601()
  from?: string;

  /** Records that happened before this instant (ISO 8601). */
  @IsOptional()
  @IsISO8601()
  to?: string;

  @IsOptional()
  @IsIn(auditCategories)
  category?: AuditCategory;

  /** Exact action (`login`). */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @IsOptional()
  @IsIn(auditOutcomes)
  outcome?: AuditOutcome;

  /** Exact actor id (`user:<uuid>`, `plugin:<id>`, `service:<name>`). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  pluginId?: string;

  @IsOptional()
  @Matches(/^[0-9a-f]{32}$/)
  traceId?: string;

  @IsOptional()
  @IsBoolean()
  phiInvolved?: boolean;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  cursor?: string;

  /**
   * Page size.
   * @default 100
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(auditQueryLimits.maxLimit)
  limit?: number;
}

/** One stored audit record with its place in the hash chain. */
export class AuditRecordView {
  /** Position in the chain (1, 2, …), newest highest. */
  @IsInt()
  seq!: number;

  @IsString()
  id!: string;

  /** When it happened. */
  @IsISO8601()
  ts!: string;

  /** When the audit service stored it. */
  @IsISO8601()
  storedAt!: string;

  @IsIn(auditCategories)
  category!: AuditCategory;

  @IsString()
  action!: string;

  @IsIn(auditOutcomes)
  outcome!: AuditOutcome;

  @ValidateNested()
  @Type(() => AuditActor)
  actor!: AuditActor;

  @IsOptional()
  @IsString()
  target?: string;

  @IsOptional()
  @IsString()
  pluginId?: string;

  @IsOptional()
  @IsString()
  traceId?: string;

  @IsString({ each: true })
  classification!: Classification[];

  @IsBoolean()
  phiInvolved!: boolean;

  @IsString()
  service!: string;

  /** Sanitized twice: by the emitter and at ingest. */
  @IsObject()
  details!: Record<string, unknown>;

  /** SHA-256 of the previous record (hex); 64 zeros for the first. */
  @IsString()
  prevHash!: string;

  /** SHA-256 over this record's canonical JSON and `prevHash` (hex). */
  @IsString()
  hash!: string;
}

/** A page of audit records, newest first. */
export class AuditQueryReply {
  @ValidateNested({ each: true })
  @Type(() => AuditRecordView)
  records!: AuditRecordView[];

  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  @IsOptional()
  @IsString()
  nextCursor?: string;
}

/** Range of a verification; the whole trail when both are omitted. */
export class AuditVerifyRequest {
  @IsOptional()
  @IsInt()
  @Min(1)
  fromSeq?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  toSeq?: number;
}

/** What a verification found first, when something is wrong. */
export class AuditVerifyProblem {
  /** The first broken row's `seq` (rows), or the checkpoint's number (checkpoints). */
  @IsInt()
  seq!: number;

  /** The row's or checkpoint's id. */
  @IsOptional()
  @IsString()
  id?: string;

  /** `hash_mismatch`, `prev_hash_mismatch`, `seq_gap`, `seq_duplicate`, `signature_invalid`, … */
  @IsString()
  reason!: string;
}

/** The outcome of a hash-chain and checkpoint verification. */
export class AuditVerifyReply {
  /** True when every row and checkpoint in the range verified. */
  @IsBoolean()
  ok!: boolean;

  @IsInt()
  fromSeq!: number;

  @IsInt()
  toSeq!: number;

  @IsInt()
  rowsChecked!: number;

  @IsInt()
  checkpointsChecked!: number;

  /** The first broken row. */
  @IsOptional()
  @ValidateNested()
  @Type(() => AuditVerifyProblem)
  firstBrokenRow?: AuditVerifyProblem;

  /** The first broken checkpoint. */
  @IsOptional()
  @ValidateNested()
  @Type(() => AuditVerifyProblem)
  firstBrokenCheckpoint?: AuditVerifyProblem;

  @IsISO8601()
  verifiedAt!: string;
}

/** The compliance report takes no input. */
export class ComplianceReportRequest {}

/** Evidence for one HIPAA 164.312 technical safeguard. */
export class ComplianceSafeguardView {
  /** The regulation paragraph (`164.312(b)`). */
  @IsString()
  id!: string;

  /** Its name (`Audit controls`). */
  @IsString()
  name!: string;

  /** `met` when every control checked is on, `partial`, `not_met`, or `unknown` when evidence is missing. */
  @IsIn(['met', 'partial', 'not_met', 'unknown'])
  status!: 'met' | 'partial' | 'not_met' | 'unknown';

  /** Facts gathered (no PHI, no secrets). */
  @IsObject()
  evidence!: Record<string, unknown>;

  /** What could not be checked, and why. */
  @IsOptional()
  @IsString()
  note?: string;
}

/** `GET /v1/compliance/report`. */
export class ComplianceReportReply {
  @IsISO8601()
  generatedAt!: string;

  @ValidateNested({ each: true })
  @Type(() => ComplianceSafeguardView)
  safeguards!: ComplianceSafeguardView[];
}

const viewer = (action: string): Access => ({ action, anyTrait: auditViewerTraits, kinds: ['user'] });

/** The audit service's contracts, keyed by subject. Action names are the policy engine's platform actions. */
export const auditContracts = {
  [subjects.audit.records.query]: defineRpc({
    subject: subjects.audit.records.query,
    request: AuditQueryRequest,
    reply: AuditQueryReply,
    access: viewer('audit.record.query'),
    summary: 'A page of audit records, newest first, with filters; the read itself is audited.',
    timeoutMs: 15_000,
  }),
  [subjects.audit.records.export]: defineRpc({
    subject: subjects.audit.records.export,
    request: AuditQueryRequest,
    reply: AuditQueryReply,
    access: viewer('audit.record.export'),
    summary: 'One page of an export (the gateway pages through it and streams NDJSON).',
    timeoutMs: 30_000,
  }),
  [subjects.audit.records.verify]: defineRpc({
    subject: subjects.audit.records.verify,
    request: AuditVerifyRequest,
    reply: AuditVerifyReply,
    access: viewer('audit.record.verify'),
    summary: 'Checks the hash chain and the signed checkpoints over a range; names the first broken row.',
    timeoutMs: 120_000,
  }),
  [subjects.audit.compliance.report]: defineRpc({
    subject: subjects.audit.compliance.report,
    request: ComplianceReportRequest,
    reply: ComplianceReportReply,
    access: viewer('audit.report.compliance'),
    summary: 'Evidence for each HIPAA 164.312 technical safeguard.',
    timeoutMs: 30_000,
  }),
} as const;
