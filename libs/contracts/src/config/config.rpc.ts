import 'reflect-metadata';

import { Type } from 'class-transformer';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';
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
  MinLength,
  Validate,
  ValidateNested,
  ValidatorConstraint,
} from 'class-validator';

import type { FieldError } from '../errors';
import type { Access } from '../rpc';
import { defineRpc } from '../rpc';
import { subjects } from '../subjects';

/**
 * Platform configuration (ARCHITECTURE §7 `GET|PUT /v1/config`, §3 KV bucket `vivified_config`), served by the
 * policy service. Every key is declared in a catalog with its type, default, readers and sensitivity; a value for
 * an undeclared key is refused. See docs/config.md.
 */

/** A config value: what a key of the catalog can hold. */
export type ConfigValue = boolean | number | string;

/** What every catalog entry says, whatever its type. */
interface ConfigKeyCommon {
  /** One line: what the key changes. */
  readonly description: string;
  /**
   * Who reads the key and how (`'console'`: HTTP clients of `GET /v1/config`; a service name: it watches the
   * `vivified_config` bucket). A key nobody reads is not declared.
   */
  readonly readers: readonly string[];
  /**
   * A secret: stored sealed (AES-256-GCM envelope), answered only as `"***"` with `set`, never published to
   * the bucket, never in the audit trail. A sensitive key has no default.
   */
  readonly sensitive: boolean;
}

/** A boolean key. */
export interface BooleanConfigKey extends ConfigKeyCommon {
  readonly type: 'boolean';
  readonly default: boolean;
}

/** An integer key, within `min`..`max` when given. */
export interface IntegerConfigKey extends ConfigKeyCommon {
  readonly type: 'integer';
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
}

/** A string key: one of `enum`, or an `https` URL with `format: 'https-url'`, at most `maxLength` characters. */
export interface StringConfigKey extends ConfigKeyCommon {
  readonly type: 'string';
  readonly default?: string;
  readonly enum?: readonly string[];
  readonly format?: 'https-url';
  /** @default 2000 */
  readonly maxLength?: number;
}

/** One entry of the config catalog. */
export type ConfigKeySpec = BooleanConfigKey | IntegerConfigKey | StringConfigKey;

/** A config catalog: key → its spec. */
export type ConfigCatalog = Readonly<Record<string, ConfigKeySpec>>;

/** The grammar of a key: dotted lower-case segments (`ui.plugin_install.enabled`). */
export const CONFIG_KEY_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Limits of the config API. */
export const configLimits = {
  /** Keys in one change. */
  maxKeysPerChange: 100,
  /** Characters of a key. */
  maxKeyLength: 200,
  /** Characters of a string value, unless the key says less. */
  maxStringLength: 2_000,
  /** Characters of the reason of a change. */
  maxReasonLength: 500,
  /** Versions in one page of the history. */
  maxHistoryPage: 100,
} as const;

/** What a sensitive value is answered as. */
export const CONFIG_MASK = '***';

/** The key of the effective (non-sensitive) values in the `vivified_config` bucket. */
export const platformConfigKey = 'platform';

/** Users who may read the config (the engine's `config.read`: config_manager, or viewer). */
export const configReaderTraits = ['config_manager', 'viewer'] as const;

/** Users who may change the config (the engine's `config.write`). */
export const configWriterTraits = ['config_manager'] as const;

/**
 * The platform's config keys. Only keys something reads are declared here; who reads each is in `readers`.
 * The `ui.*` keys are what the predecessor's `/admin/ui-config` served: they tell the admin console what to show
 * and gate no server route (every route is decided by policy, whatever they say).
 */
export const platformConfigCatalog = {
  'ui.admin_console.enabled': {
    type: 'boolean',
    default: true,
    sensitive: false,
    readers: ['console'],
    description:
      'Whether the admin console shows its admin pages; display only, the API behind them is decided by policy',
  },
  'ui.plugins.enabled': {
    type: 'boolean',
    default: true,
    sensitive: false,
    readers: ['console'],
    description: 'Whether the admin console shows the plugin pages; display only, plugins.* actions decide',
  },
  'ui.plugin_install.enabled': {
    type: 'boolean',
    default: false,
    sensitive: false,
    readers: ['console'],
    description:
      'Whether the admin console offers registering a plugin from a manifest; display only, POST /v1/plugins ' +
      'is decided by policy (plugins.register)',
  },
  'ui.docs.base': {
    type: 'string',
    format: 'https-url',
    maxLength: 500,
    sensitive: false,
    readers: ['console'],
    description: "Base URL of the operator's documentation the console links to; no link when unset",
  },
} as const satisfies ConfigCatalog;

/** One key of the platform catalog. */
export type PlatformConfigKey = keyof typeof platformConfigCatalog;

const isHttpsUrl = (value: string): boolean => {
  try {
    const url = new URL(value);

    return url.protocol === 'https:' && url.hostname.length > 0 && url.username === '' && url.password === '';
  } catch {
    return false;
  }
};

/** What is wrong with `value` for `spec`, or undefined when it fits. `null` (back to the default) always fits. */
export function configValueProblem(spec: ConfigKeySpec, value: unknown): string | undefined {
  if (value === null) {
    return undefined;
  }
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean';
    case 'integer': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        return 'must be an integer';
      }
      if (spec.min !== undefined && value < spec.min) {
        return `must be at least ${spec.min}`;
      }
      if (spec.max !== undefined && value > spec.max) {
        return `must be at most ${spec.max}`;
      }

      return undefined;
    }
    case 'string': {
      if (typeof value !== 'string') {
        return 'must be a string';
      }
      const max = spec.maxLength ?? configLimits.maxStringLength;
      if (value.length === 0 || value.length > max) {
        return `must have 1 to ${max} characters`;
      }
      if (value.includes('\u0000')) {
        return 'must not contain NUL characters';
      }
      if (spec.enum !== undefined && !spec.enum.includes(value)) {
        return `must be one of ${spec.enum.join(', ')}`;
      }
      if (spec.format === 'https-url' && !isHttpsUrl(value)) {
        return 'must be an https URL without credentials';
      }

      return undefined;
    }
  }
}

/**
 * Every problem of a change against a catalog, one field error per key (`values.<key>`): unknown keys
 * (`unknown config key`) and values that do not fit their key. Empty when the change is valid.
 */
export function configChangeProblems(catalog: ConfigCatalog, values: Record<string, unknown>): FieldError[] {
  const problems: FieldError[] = [];
  const keys = Object.keys(values);
  if (keys.length === 0) {
    problems.push({ path: 'values', messages: ['must name at least one key'] });
  }
  for (const key of keys) {
    const spec = Object.hasOwn(catalog, key) ? catalog[key] : undefined;
    if (spec === undefined) {
      problems.push({ path: `values.${key}`, messages: [`unknown config key ${JSON.stringify(key)}`] });
      continue;
    }
    const problem = configValueProblem(spec, values[key]);
    if (problem !== undefined) {
      problems.push({ path: `values.${key}`, messages: [problem] });
    }
  }

  return problems;
}

/** Problems of a catalog itself (bad key names, defaults that do not fit, sensitive keys with a default). */
export function configCatalogProblems(catalog: ConfigCatalog): string[] {
  return Object.entries(catalog).flatMap(([key, spec]) => {
    const problems: string[] = [];
    if (!CONFIG_KEY_PATTERN.test(key) || key.length > configLimits.maxKeyLength) {
      problems.push(`${key}: not a valid key`);
    }
    if (spec.default !== undefined) {
      const problem = configValueProblem(spec, spec.default);
      if (problem !== undefined) {
        problems.push(`${key}: default ${problem}`);
      }
      if (spec.sensitive) {
        problems.push(`${key}: a sensitive key has no default`);
      }
    }
    if (spec.readers.length === 0) {
      problems.push(`${key}: nobody reads it`);
    }

    return problems;
  });
}

@ValidatorConstraint({ name: 'configValues' })
export class ConfigValuesConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return false;
    }
    const entries = Object.entries(value);

    return (
      entries.length <= configLimits.maxKeysPerChange &&
      entries.every(
        ([key, item]) =>
          key.length <= configLimits.maxKeyLength &&
          (item === null || ['boolean', 'number', 'string'].includes(typeof item)),
      )
    );
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must map at most ${configLimits.maxKeysPerChange} keys to a boolean, number, string or null`;
  }
}

/** `vivified.v1.policy.config.get`: no body. */
export class ConfigGetRequest {}

/** One key of the config as `GET /v1/config` answers it. */
export class ConfigEntryView {
  /** The effective value: the set one, else the default; absent when neither; `"***"` for a set sensitive key. */
  @IsOptional()
  value?: ConfigValue;

  /** The catalog's default, when it has one. */
  @IsOptional()
  default?: ConfigValue;

  /** Where {@link value} comes from. */
  @IsIn(['default', 'set'])
  source!: 'default' | 'set';

  /** Whether the key is a secret (its value is never answered). */
  @IsBoolean()
  sensitive!: boolean;

  /** For a sensitive key: whether a value is set. */
  @IsOptional()
  @IsBoolean()
  set?: boolean;

  /** When the value was set (ISO 8601); absent for a default. */
  @IsOptional()
  @IsISO8601()
  updatedAt?: string;

  /** Who set it (`user:<uuid>`); absent for a default. */
  @IsOptional()
  @IsString()
  updatedBy?: string;
}

/** The whole config: every key of the catalog. */
export class ConfigView {
  /** Version of the config; 0 before the first change. */
  @IsInt()
  @Min(0)
  version!: number;

  /** Entity tag of this view (changes with the version and with the catalog); the gateway's `ETag`. */
  @IsString()
  etag!: string;

  /** Key → its entry, for every key of the catalog. */
  @IsObject()
  values!: Record<string, ConfigEntryView>;
}

/** `vivified.v1.policy.config.put`: sets (or with `null` resets to the default) some keys; the rest stay. */
export class ConfigPutRequest {
  /** Key → new value, `null` for the default. Unknown keys and misfit values are one `VALIDATION_FAILED`. */
  @Validate(ConfigValuesConstraint)
  values!: Record<string, ConfigValue | null>;

  /** Why (kept in the history and the audit trail). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(configLimits.maxReasonLength)
  reason?: string;

  /** Optimistic concurrency: the version the change was made against; another current version is a `CONFLICT`. */
  @IsOptional()
  @IsInt()
  @Min(0)
  expectedVersion?: number;
}

/** `vivified.v1.policy.config.history`: a page of earlier versions, newest first. */
export class ConfigHistoryRequest {
  /** Versions per page. @default 20 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(configLimits.maxHistoryPage)
  limit?: number;

  /** Only versions below this one (the `nextBefore` of the previous page). */
  @IsOptional()
  @IsInt()
  @Min(1)
  before?: number;
}

/** One key's change within a version; a sensitive key's values are `"***"` (or absent when unset). */
export class ConfigChangeView {
  @IsString()
  @Matches(CONFIG_KEY_PATTERN)
  key!: string;

  @IsBoolean()
  sensitive!: boolean;

  /** The value before; absent when it was the default. */
  @IsOptional()
  from?: ConfigValue;

  /** The value after; absent when it went back to the default. */
  @IsOptional()
  to?: ConfigValue;
}

/** One saved version. */
export class ConfigVersionView {
  @IsInt()
  @Min(1)
  version!: number;

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

  @ValidateNested({ each: true })
  @Type(() => ConfigChangeView)
  changes!: ConfigChangeView[];
}

/** A page of the history. */
export class ConfigHistoryReply {
  @ValidateNested({ each: true })
  @Type(() => ConfigVersionView)
  versions!: ConfigVersionView[];

  /** Pass as `before` for the next page; absent on the last page. */
  @IsOptional()
  @IsInt()
  nextBefore?: number;
}

/** What the policy service publishes under {@link platformConfigKey} in `vivified_config`. */
export interface PlatformConfigEntry {
  /** The config version. */
  readonly version: number;
  /** When it was saved (ISO 8601); absent for version 0. */
  readonly updatedAt?: string;
  /** Effective values of the non-sensitive keys (set, else default; keys with neither are left out). */
  readonly values: Readonly<Record<string, ConfigValue>>;
}

const reader: Access = { action: 'policy.config.read', anyTrait: configReaderTraits, kinds: ['user'] };
const writer: Access = { action: 'policy.config.write', anyTrait: configWriterTraits, kinds: ['user'] };

/** The platform config's contracts, keyed by subject (served by the policy service). */
export const configContracts = {
  [subjects.policy.config.get]: defineRpc({
    subject: subjects.policy.config.get,
    request: ConfigGetRequest,
    reply: ConfigView,
    access: reader,
    summary: 'The platform config: every catalog key with its value, default and source; secrets masked.',
  }),
  [subjects.policy.config.put]: defineRpc({
    subject: subjects.policy.config.put,
    request: ConfigPutRequest,
    reply: ConfigView,
    access: writer,
    summary:
      'Sets or resets config keys: a new version, audited and published to the vivified_config bucket.',
    timeoutMs: 10_000,
  }),
  [subjects.policy.config.history]: defineRpc({
    subject: subjects.policy.config.history,
    request: ConfigHistoryRequest,
    reply: ConfigHistoryReply,
    access: reader,
    summary: 'Earlier versions of the config, newest first, with who changed which keys and why.',
  }),
} as const;
