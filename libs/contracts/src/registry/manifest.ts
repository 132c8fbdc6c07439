import 'reflect-metadata';

import { Type } from 'class-transformer';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
} from 'class-validator';

import type { Classification } from '../headers';
import { classifications } from '../headers';

/**
 * The plugin manifest (ARCHITECTURE §6, a **contract**): what a plugin is, what it handles, what it asks the
 * platform for. These classes are the one schema: the registry validates with them, and
 * `libs/contracts/schemas/manifest.schema.json` is generated from them for authors in other languages.
 * The shape is checked here; what the platform accepts (traits, domains, compliance, resources) is the
 * security validator's job (`@vivified/plugin-manifest`).
 */

/** A plugin id: lower-case letters, digits and hyphens, 3–63 characters, starting with a letter. */
export const PLUGIN_ID_PATTERN = /^[a-z][a-z0-9-]{2,62}$/;

/** Semantic Versioning 2.0.0, pre-release and build metadata included (the semver.org expression). */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** A trait name as written in a manifest (`handles_phi`, `ui.admin`); whether it is a trait is checked later. */
export const TRAIT_NAME_PATTERN = /^[a-z][a-z0-9_.]{0,63}$/;

/** A contract (interface) name a plugin implements, PascalCase: `CommunicationPlugin`. */
export const CONTRACT_NAME_PATTERN = /^[A-Z][A-Za-z0-9]{1,63}$/;

/**
 * An event type: a canonical PascalCase name (`UserCreated`) or a namespaced lower-case one with two to six
 * dot-separated parts (`acme.invoice.paid`), optionally pinned to a schema version `@major.minor`.
 */
export const EVENT_TYPE_PATTERN =
  /^(?:[A-Z][A-Za-z0-9]{0,63}|[a-z][a-z0-9_-]{0,62}(?:\.[a-z][a-z0-9_-]{0,62}){1,5})(?:@(?:0|[1-9]\d{0,3})\.(?:0|[1-9]\d{0,3}))?$/;

/** An operation name: one subject token, lower-case snake case (`get_user`). */
export const OPERATION_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * A HIPAA Security Rule citation (45 CFR 164.302–164.318) with its paragraph and optional sub-paragraph:
 * `164.312(a)`, `164.312(a)(1)`, `164.308(a)(5)`.
 */
export const HIPAA_CONTROL_PATTERN = /^164\.3(?:0[2-9]|1[0-8])\([a-z]\)(?:\([1-9][0-9]?\))?$/;

/** A rate-limit name: lower-case, digits, `_`, `.` and `-` (`events.publish`, `get_user`). */
export const RATE_LIMIT_NAME_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

/** A health-check path of an HTTP plugin: absolute, printable ASCII, no spaces. */
export const HEALTH_CHECK_PATH_PATTERN = /^\/[\x21-\x7e]{0,255}$/;

/** How the platform delivers events and operator-lane calls to a plugin. */
export const deliveryModes = ['nats', 'http'] as const;

/** One delivery mode. */
export type DeliveryMode = (typeof deliveryModes)[number];

/** How the registry learns that a plugin is alive. */
export const healthCheckTypes = ['nats', 'http'] as const;

/** One health-check type. */
export type HealthCheckType = (typeof healthCheckTypes)[number];

/** How much the audit trail records about a plugin's actions. */
export const auditLevels = ['standard', 'detailed'] as const;

/** One audit level. */
export type ManifestAuditLevel = (typeof auditLevels)[number];

/** Size limits of a manifest: every list, string and map is bounded. */
export const manifestLimits = {
  nameLength: 100,
  descriptionLength: 2000,
  versionLength: 128,
  contracts: 16,
  traits: 32,
  dependencies: 32,
  eventTypes: 64,
  eventTypeLength: 200,
  operations: 64,
  operationDescriptionLength: 500,
  operationTraits: 16,
  allowedDomains: 32,
  domainLength: 253,
  webhookUrlLength: 2048,
  hipaaControls: 32,
  hipaaControlLength: 32,
  maxRetentionDays: 36_500,
  minTimeoutMs: 100,
  maxTimeoutMs: 300_000,
  minIntervalSeconds: 5,
  maxIntervalSeconds: 3600,
  rateLimits: 64,
  maxRateLimit: 1_000_000,
  configSchemaBytes: 65_536,
  configSchemaDepth: 16,
} as const;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null);

/** Why a rate-limit map is invalid, or undefined. */
export function rateLimitsProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) {
    return 'must be an object mapping names to integers';
  }
  const entries = Object.entries(value);
  if (entries.length > manifestLimits.rateLimits) {
    return `must have at most ${manifestLimits.rateLimits} entries`;
  }
  for (const [name, limit] of entries) {
    if (!RATE_LIMIT_NAME_PATTERN.test(name)) {
      return `has an invalid name ${JSON.stringify(name.slice(0, 70))} (lower-case, digits, _ . -, at most 64)`;
    }
    if (
      !Number.isInteger(limit) ||
      (limit as number) < 0 ||
      (limit as number) > manifestLimits.maxRateLimit
    ) {
      return `${name} must be an integer from 0 to ${manifestLimits.maxRateLimit}`;
    }
  }

  return undefined;
}

/** Checks {@link PluginManifest.rateLimits}: a bounded map of names to non-negative integers. */
@ValidatorConstraint({ name: 'rateLimitMap', async: false })
export class RateLimitMapConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return rateLimitsProblem(value) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} ${rateLimitsProblem(args.value) ?? 'is invalid'}`;
  }
}

function jsonProblem(value: unknown, depth: number): string | undefined {
  if (depth > manifestLimits.configSchemaDepth) {
    return `nests deeper than ${manifestLimits.configSchemaDepth} levels`;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    return undefined;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : 'holds a number that is not finite';
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, depth + 1);
      if (problem !== undefined) {
        return problem;
      }
    }

    return undefined;
  }
  if (!isPlainObject(value)) {
    return 'holds a value that is not JSON';
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      return `holds the forbidden key ${key}`;
    }
    const problem = jsonProblem(item, depth + 1);
    if (problem !== undefined) {
      return problem;
    }
  }

  return undefined;
}

/** Why a config schema is invalid, or undefined: a JSON object, at most 16 levels deep and 64 KiB. */
export function configSchemaProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) {
    return 'must be a JSON object';
  }
  const problem = jsonProblem(value, 0);
  if (problem !== undefined) {
    return problem;
  }
  if (new TextEncoder().encode(JSON.stringify(value)).length > manifestLimits.configSchemaBytes) {
    return `must be at most ${manifestLimits.configSchemaBytes} bytes as JSON`;
  }

  return undefined;
}

/** Checks {@link PluginManifest.configSchema}: a bounded JSON object. */
@ValidatorConstraint({ name: 'boundedJsonObject', async: false })
export class BoundedJsonObjectConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return configSchemaProblem(value) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} ${configSchemaProblem(args.value) ?? 'is invalid'}`;
  }
}

/** The events a plugin publishes and subscribes to on the canonical lane. */
export class ManifestEvents {
  /**
   * Event types the plugin publishes (`UserCreated`, `acme.invoice.paid`, optionally `@major.minor`). Publishing
   * any other type is refused.
   */
  @IsArray()
  @ArrayMaxSize(manifestLimits.eventTypes)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(manifestLimits.eventTypeLength, { each: true })
  @Matches(EVENT_TYPE_PATTERN, { each: true })
  publishes!: string[];

  /** Event types the plugin subscribes to; the same grammar as {@link ManifestEvents.publishes}. */
  @IsArray()
  @ArrayMaxSize(manifestLimits.eventTypes)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(manifestLimits.eventTypeLength, { each: true })
  @Matches(EVENT_TYPE_PATTERN, { each: true })
  subscribes!: string[];
}

/** One operation other plugins may call on the operator lane (`vivified.v1.rpc.<pluginId>.<name>`). */
export class ManifestOperation {
  /** Operation name, one subject token: lower-case snake case, at most 63 characters (`get_user`). */
  @IsString()
  @Matches(OPERATION_NAME_PATTERN)
  name!: string;

  /** What the operation does, for reviewers and the admin console. */
  @IsString()
  @MinLength(1)
  @MaxLength(manifestLimits.operationDescriptionLength)
  description!: string;

  /** Traits a caller must hold to be allowed to call it (checked by policy on every call); may be empty. */
  @IsArray()
  @ArrayMaxSize(manifestLimits.operationTraits)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(TRAIT_NAME_PATTERN, { each: true })
  requiredTraits!: string[];

  /** Classifications of the data the operation's requests and replies carry; each must be declared in `security.dataClassification`. */
  @IsArray()
  @ArrayMaxSize(classifications.length)
  @ArrayUnique()
  @IsIn(classifications, { each: true })
  classification!: Classification[];

  /**
   * True when calling it twice with the same request has the effect of calling it once (the operator lane may
   * retry it).
   * @default false
   */
  @IsOptional()
  @IsBoolean()
  idempotent?: boolean;

  /**
   * How long the operator lane waits for the reply, in milliseconds (100 to 300000).
   * @default 5000
   */
  @IsOptional()
  @IsInt()
  @Min(manifestLimits.minTimeoutMs)
  @Max(manifestLimits.maxTimeoutMs)
  timeoutMs?: number;
}

/** How the platform delivers events and operator-lane calls to the plugin. */
export class ManifestDelivery {
  /** `nats`: requests on `vivified.v1.plugin.<id>.>` over the plugin's NATS connection; `http`: signed POSTs to `webhookUrl`. */
  @IsIn(deliveryModes)
  mode!: DeliveryMode;

  /** The HTTPS endpoint deliveries are POSTed to; required for `http`, refused for `nats`. No credentials in it. */
  @ValidateIf((delivery: ManifestDelivery) => delivery.mode === 'http' || delivery.webhookUrl !== undefined)
  @IsString()
  @MaxLength(manifestLimits.webhookUrlLength)
  @IsUrl({ protocols: ['https'], require_protocol: true, require_tld: true, allow_underscores: false })
  webhookUrl?: string;
}

/** What the plugin handles and how callers authenticate to it. */
export class ManifestSecurity {
  /** Whether calls to the plugin must carry a caller's token; the platform accepts only `true`. */
  @IsBoolean()
  authenticationRequired!: boolean;

  /**
   * Every classification of data the plugin handles (`public`, `internal`, `confidential`, `pii`, `phi`); at
   * least one. `phi`, `pii` and `confidential` go together with the matching `handles_*` trait.
   */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(classifications.length)
  @ArrayUnique()
  @IsIn(classifications, { each: true })
  dataClassification!: Classification[];
}

/** Compliance controls and audit and retention settings. */
export class ManifestCompliance {
  /**
   * HIPAA Security Rule controls the plugin implements, as citations (`164.312(a)`, `164.312(a)(1)`); a PHI
   * plugin lists at least one technical safeguard (`164.312(x)`).
   */
  @IsArray()
  @ArrayMaxSize(manifestLimits.hipaaControls)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(manifestLimits.hipaaControlLength, { each: true })
  @Matches(HIPAA_CONTROL_PATTERN, { each: true })
  hipaaControls!: string[];

  /** How much the audit trail records about the plugin's actions: `standard` or `detailed`. */
  @IsIn(auditLevels)
  auditLevel!: ManifestAuditLevel;

  /**
   * How many days the plugin keeps the data it handles (0: it keeps none). Optional, except for a PHI plugin,
   * which keeps at least 2555 days (7 years).
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(manifestLimits.maxRetentionDays)
  dataRetentionDays?: number;
}

/** The resources the plugin asks for. */
export class ManifestResources {
  /** Memory in MiB; the platform accepts 64 to 8192. */
  @IsInt()
  @IsPositive()
  memoryMb!: number;

  /** CPU cores (fractions allowed, at most three decimals); the platform accepts 0.1 to 8. */
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 3 })
  @IsPositive()
  cpu!: number;
}

/** How the registry learns that the plugin is alive. */
export class ManifestHealthCheck {
  /** `nats`: the plugin sends heartbeats on `vivified.v1.registry.heartbeat`; `http`: the registry polls `path` on the webhook host. */
  @IsIn(healthCheckTypes)
  type!: HealthCheckType;

  /** Path polled for `http` health checks (`/health`); required for `http`, refused for `nats`. */
  @ValidateIf((check: ManifestHealthCheck) => check.type === 'http' || check.path !== undefined)
  @IsString()
  @Matches(HEALTH_CHECK_PATH_PATTERN)
  path?: string;

  /** Seconds between heartbeats or polls (5 to 3600); missed ones make the plugin degraded, then unhealthy. */
  @IsInt()
  @Min(manifestLimits.minIntervalSeconds)
  @Max(manifestLimits.maxIntervalSeconds)
  intervalSeconds!: number;
}

/**
 * A plugin manifest (ARCHITECTURE §6). Unknown fields are refused at every level; every list, string and map
 * is bounded.
 */
export class PluginManifest {
  /** Plugin id, unique on the platform and part of its subjects: `^[a-z][a-z0-9-]{2,62}$`. */
  @IsString()
  @Matches(PLUGIN_ID_PATTERN)
  id!: string;

  /** Display name. */
  @IsString()
  @MinLength(1)
  @MaxLength(manifestLimits.nameLength)
  name!: string;

  /** Version of the plugin, Semantic Versioning 2.0.0 (`1.4.0`, `2.0.0-rc.1+build.7`). */
  @IsString()
  @MaxLength(manifestLimits.versionLength)
  @Matches(SEMVER_PATTERN)
  version!: string;

  /** What the plugin does, for reviewers and the admin console. */
  @IsString()
  @MinLength(1)
  @MaxLength(manifestLimits.descriptionLength)
  description!: string;

  /** Contracts (interfaces) the plugin implements, PascalCase (`CommunicationPlugin`); may be empty. */
  @IsArray()
  @ArrayMaxSize(manifestLimits.contracts)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(CONTRACT_NAME_PATTERN, { each: true })
  contracts!: string[];

  /**
   * Traits the plugin asks for (`communication_plugin`, `handles_pii`, `audit_required`); may be empty. Role,
   * `ui.*` and administrative traits are refused; sensitive ones need an administrator's approval.
   */
  @IsArray()
  @ArrayMaxSize(manifestLimits.traits)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(TRAIT_NAME_PATTERN, { each: true })
  traits!: string[];

  /** Ids of plugins this one needs; each must be registered. */
  @IsArray()
  @ArrayMaxSize(manifestLimits.dependencies)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(PLUGIN_ID_PATTERN, { each: true })
  dependencies!: string[];

  /** Event types published and subscribed to on the canonical lane. */
  @IsObject()
  @ValidateNested()
  @Type(() => ManifestEvents)
  events!: ManifestEvents;

  /** Operations other plugins may call on the operator lane; names are unique. */
  @IsArray()
  @ArrayMaxSize(manifestLimits.operations)
  @ValidateNested({ each: true })
  @Type(() => ManifestOperation)
  operations!: ManifestOperation[];

  /**
   * Domains the plugin may reach through the proxy lane (`api.example.org`, `*.example.org`); needs the
   * `external_service` trait. Public DNS names only: no IP literal, internal or reserved name; a wildcard only as
   * the first label of a registrable domain. Internationalized names are checked in their ASCII form.
   */
  @IsArray()
  @ArrayMaxSize(manifestLimits.allowedDomains)
  @ArrayUnique()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(manifestLimits.domainLength, { each: true })
  allowedDomains!: string[];

  /** How events and operator-lane calls reach the plugin. */
  @IsObject()
  @ValidateNested()
  @Type(() => ManifestDelivery)
  delivery!: ManifestDelivery;

  /** Authentication and the classifications of the data handled. */
  @IsObject()
  @ValidateNested()
  @Type(() => ManifestSecurity)
  security!: ManifestSecurity;

  /** HIPAA controls, audit level and data retention. */
  @IsObject()
  @ValidateNested()
  @Type(() => ManifestCompliance)
  compliance!: ManifestCompliance;

  /** Memory and CPU the plugin asks for. */
  @IsObject()
  @ValidateNested()
  @Type(() => ManifestResources)
  resources!: ManifestResources;

  /** How the plugin reports that it is alive. */
  @IsObject()
  @ValidateNested()
  @Type(() => ManifestHealthCheck)
  healthCheck!: ManifestHealthCheck;

  /**
   * Requests per minute the plugin accepts, by name (an operation name, or a lane such as `events.publish`):
   * at most 64 names of `^[a-z][a-z0-9_.-]{0,63}$`, each an integer from 0 to 1000000; may be empty.
   */
  @Validate(RateLimitMapConstraint)
  rateLimits!: Record<string, number>;

  /**
   * A JSON Schema describing the plugin's configuration (`GET|PUT /v1/plugins/:id/config` validate against it):
   * a JSON object of at most 64 KiB and 16 levels.
   */
  @IsOptional()
  @Validate(BoundedJsonObjectConstraint)
  configSchema?: Record<string, unknown>;
}
