import 'reflect-metadata';

import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

import type { Classification } from '../headers';
import { classifications } from '../headers';
import type { PrincipalKind } from '../rpc';
import type { AdminRuleBody } from './rules.rpc';
import { policyRuleLimits } from './rules.rpc';

/**
 * Decision input and output of ARCHITECTURE §5 (**contract**), as `decision.decide` and `decision.simulate` (and
 * `POST /v1/policy/simulate`) carry them.
 */

/** Traits in one list. */
const MAX_TRAITS = 200;
/** A trait, action or resource name. */
const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Who asks. */
export class PolicyPrincipalInput {
  /** `user`, `plugin` or `service`. */
  @IsIn(['user', 'plugin', 'service'])
  kind!: PrincipalKind;

  /** User uuid, plugin id or service name. */
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{1,128}$/)
  id!: string;

  /** The token's traits (aliases resolved, unknown names ignored). */
  @IsArray()
  @ArrayMaxSize(MAX_TRAITS)
  @Matches(NAME, { each: true })
  traits!: string[];

  /** Live status; anything but `active` is denied. */
  @IsString()
  @MaxLength(32)
  status!: string;
}

/** What the action is about. */
export class PolicyResourceInput {
  /** The resource type of the action (`users`, `plugins`, `policy`, …). */
  @IsString()
  @Matches(/^[a-z][a-z_]{0,39}$/)
  type!: string;

  /** Resource id (a user id, a plugin id, a UI feature). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  id?: string;

  /** The plugin that owns the resource. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ownerPluginId?: string;
}

/** One side of a plugin-to-plugin flow, with its registered traits. */
export class PolicyPartyInput {
  @IsString()
  @MaxLength(64)
  pluginId!: string;

  @IsArray()
  @ArrayMaxSize(MAX_TRAITS)
  @Matches(NAME, { each: true })
  traits!: string[];
}

/** A §5 decision input. */
export class PolicyDecideRequest {
  /** The action (`identity.user.create`, `rpc.call`, …); unknown actions are denied. */
  @IsString()
  @Matches(NAME)
  action!: string;

  @ValidateNested()
  @Type(() => PolicyPrincipalInput)
  principal!: PolicyPrincipalInput;

  @ValidateNested()
  @Type(() => PolicyResourceInput)
  resource!: PolicyResourceInput;

  /** Classifications of the data touched. */
  @IsArray()
  @ArrayMaxSize(classifications.length)
  @IsIn(classifications, { each: true })
  classification!: Classification[];

  /** Where data comes from in a plugin-to-plugin flow. */
  @IsOptional()
  @ValidateNested()
  @Type(() => PolicyPartyInput)
  source?: PolicyPartyInput;

  /** Where data goes in a plugin-to-plugin flow. */
  @IsOptional()
  @ValidateNested()
  @Type(() => PolicyPartyInput)
  target?: PolicyPartyInput;

  /** Lane details: `operation` (operator lane), `domain` (proxy lane); other fields are ignored. */
  @IsOptional()
  @IsObject()
  context?: Record<string, unknown>;
}

/** A what-if decision: a §5 input, optionally at another time and against a draft rule set. */
export class PolicySimulateRequest extends PolicyDecideRequest {
  /** Draft admin rules to decide with instead of the current ones (not saved); every problem is listed. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(policyRuleLimits.maxRules)
  @IsObject({ each: true })
  rules?: AdminRuleBody[];

  /** The instant to decide at (break-glass grants read it). @default now */
  @IsOptional()
  @IsISO8601({ strict: true })
  at?: string;
}

/** What one rule said. */
export class PolicyTrailEntryView {
  @IsString()
  ruleId!: string;

  /** `allow`, `deny`, `sanitize`, or (simulation only) `not_applicable`. */
  @IsIn(['allow', 'deny', 'sanitize', 'not_applicable'])
  effect!: 'allow' | 'deny' | 'sanitize' | 'not_applicable';

  @IsString()
  reason!: string;
}

/** A §5 decision output. */
export class PolicyDecisionView {
  @IsIn(['allow', 'deny', 'sanitize'])
  effect!: 'allow' | 'deny' | 'sanitize';

  /** The rule that decided. */
  @IsString()
  ruleId!: string;

  /** Machine-readable reason (`phi_trait_missing`, `default_deny`, …). */
  @IsString()
  reason!: string;

  /** On deny: the traits the deciding rule asks for. */
  @IsString({ each: true })
  requiredTraits!: string[];

  /** On sanitize: the fields to strip. */
  @IsString({ each: true })
  redactFields!: string[];

  @IsIn(['standard', 'detailed'])
  auditLevel!: 'standard' | 'detailed';

  /** The bundle version the decision was made with. */
  @IsInt()
  @Min(0)
  bundleVersion!: number;

  /** The rules that spoke (a simulation lists every rule evaluated). */
  @ValidateNested({ each: true })
  @Type(() => PolicyTrailEntryView)
  trail!: PolicyTrailEntryView[];

  /** The break-glass grant that opened the data, when one did. */
  @IsOptional()
  @IsString()
  grantId?: string;
}

/** A what-if decision. */
export class PolicySimulationView extends PolicyDecisionView {
  /** True when made against the draft `rules` of the request rather than the current ones. */
  @IsBoolean()
  draft!: boolean;

  /** The instant the decision was made at (ISO 8601). */
  @IsISO8601()
  at!: string;
}
