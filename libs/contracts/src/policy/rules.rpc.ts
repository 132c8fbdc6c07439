import 'reflect-metadata';

import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

/**
 * Admin rules of the policy service (ARCHITECTURE §7 `GET|PUT /v1/policy/rules`): operator-lane allowlists, proxy
 * approvals and time-boxed break-glass grants. The body of a rule is checked by the policy engine's
 * `validateAdminRules`, which lists every problem at once; the classes here check the envelope.
 */

/** Limits of a rule set. */
export const policyRuleLimits = {
  /** Rules in one set. */
  maxRules: 2_000,
  /** Characters of the reason of a change. */
  maxReasonLength: 500,
  /** Versions in one page of the history. */
  maxHistoryPage: 100,
} as const;

/** The key of the signed bundle in the `vivified_policy` bucket (see ADR-0006). */
export const policyBundleKey = 'bundle';

/** `{"type":"operator","caller":"a","target":"b","operations":["get_user"]}`: caller may call these operations. */
export interface OperatorRuleBody {
  readonly type: 'operator';
  readonly caller: string;
  readonly target: string;
  readonly operations: readonly string[];
}

/** `{"type":"proxy","plugin":"a","domains":["api.example.org"]}`: plugin may reach these hosts. */
export interface ProxyRuleBody {
  readonly type: 'proxy';
  readonly plugin: string;
  readonly domains: readonly string[];
}

/** A time-boxed (≤ 24 h) emergency grant of PHI, PII or confidential data to one user; audited in detail. */
export interface BreakGlassRuleBody {
  readonly type: 'break_glass';
  readonly id: string;
  readonly principalId: string;
  readonly classifications: readonly ('phi' | 'pii' | 'confidential')[];
  readonly startsAt?: string;
  readonly expiresAt: string;
  readonly reason: string;
  readonly grantedBy?: string;
}

/** One admin rule as the API carries it. */
export type AdminRuleBody = OperatorRuleBody | ProxyRuleBody | BreakGlassRuleBody;

/** `GET /v1/policy/rules`: no body. */
export class PolicyRulesGetRequest {}

/** The current admin rules. */
export class PolicyRulesView {
  /** Version of the rule set; 0 before the first change. Bundles carry the same number. */
  @IsInt()
  @Min(0)
  version!: number;

  /** The rules, in the order they were given. */
  @IsArray()
  @IsObject({ each: true })
  rules!: AdminRuleBody[];

  /** When this version was saved (ISO 8601); absent for version 0. */
  @IsOptional()
  @IsISO8601()
  updatedAt?: string;

  /** Who saved it (`user:<uuid>`); absent for version 0. */
  @IsOptional()
  @IsString()
  updatedBy?: string;
}

/** `PUT /v1/policy/rules`: replaces the whole rule set. */
export class PolicyRulesPutRequest {
  /** The new rules; every problem is listed in one `VALIDATION_FAILED` (`details[].path` = `rules[2].domains[0]`). */
  @IsArray()
  @ArrayMaxSize(policyRuleLimits.maxRules)
  @IsObject({ each: true })
  rules!: AdminRuleBody[];

  /** Why (kept in the history and the audit trail). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(policyRuleLimits.maxReasonLength)
  reason?: string;

  /** Optimistic concurrency: the version the change was made against; another current version is a `CONFLICT`. */
  @IsOptional()
  @IsInt()
  @Min(0)
  expectedVersion?: number;
}

/** `GET /v1/policy/rules/history`: a page of earlier versions, newest first. */
export class PolicyRulesHistoryRequest {
  /** Versions per page. @default 20 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(policyRuleLimits.maxHistoryPage)
  limit?: number;

  /** Only versions below this one (the `nextBefore` of the previous page). */
  @IsOptional()
  @IsInt()
  @Min(1)
  before?: number;
}

/** One saved version of the rule set. */
export class PolicyRuleVersionView {
  @IsInt()
  @Min(1)
  version!: number;

  @IsArray()
  @IsObject({ each: true })
  rules!: AdminRuleBody[];

  /** Who saved it (`user:<uuid>`). */
  @IsString()
  changedBy!: string;

  /** When (ISO 8601). */
  @IsISO8601()
  changedAt!: string;

  /** Why, when given. */
  @IsOptional()
  @IsString()
  reason?: string;
}

/** A page of the history. */
export class PolicyRulesHistoryReply {
  @ValidateNested({ each: true })
  @Type(() => PolicyRuleVersionView)
  versions!: PolicyRuleVersionView[];

  /** Pass as `before` for the next page; absent on the last page. */
  @IsOptional()
  @IsInt()
  nextBefore?: number;
}

/** `vivified.v1.policy.bundle.get`: no body. */
export class PolicyBundleGetRequest {}

/** The signed bundle as published under {@link policyBundleKey} (ADR-0006). */
export class SignedPolicyBundleView {
  /** `vivified.policy-bundle/v1`. */
  @IsIn(['vivified.policy-bundle/v1'])
  format!: 'vivified.policy-bundle/v1';

  /** `{ version, createdAt, rules }`. */
  @IsObject()
  bundle!: { version: number; createdAt: string; rules: AdminRuleBody[] };

  /** Id of the verification key (`pb1-…`). */
  @IsString()
  keyId!: string;

  /** Base64url Ed25519 signature over the canonical JSON of `bundle`. */
  @IsString()
  signature!: string;
}
