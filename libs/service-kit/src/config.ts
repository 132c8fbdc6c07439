import type { ServiceName } from '@vivified/contracts';
import { defaultOpsPorts, opsPortEnv } from '@vivified/contracts';

import { MASK } from './sensitive-data';

/** The environment a schema is parsed from: `process.env`, passed in once by the app's `main.ts`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The outcome of reading one variable. */
export type FieldResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** One environment variable of a schema and how to read it. */
export interface ConfigField<T> {
  /** Name of the environment variable. */
  readonly env: string;
  /** Kind of value, for messages and docs. */
  readonly kind: 'string' | 'int' | 'url' | 'bool' | 'enum';
  /** Whether the value must never be logged; {@link redactConfig} masks it. */
  readonly secret: boolean;
  /** What it is for, for docs and `--help` style output. */
  readonly description?: string;
  /** Reads the raw value; `undefined` when unset or empty. Messages never contain a secret's value. */
  read(raw: string | undefined): FieldResult<T>;
}

/** A config schema: config key → the field it is read from. */
export type ConfigSchema = Readonly<Record<string, ConfigField<unknown>>>;

/** The typed config tree a schema parses into. */
export type ConfigOf<S extends ConfigSchema> = {
  readonly [K in keyof S]: S[K] extends ConfigField<infer T> ? T : never;
};

/** Options every field takes. */
export interface FieldOptions<T> {
  /** Value used when the variable is unset or empty. */
  default?: T;
  /** When true and there is no default, an unset variable yields `undefined` instead of an error. */
  optional?: boolean;
  /** Marks the value as a secret: never logged, never echoed in errors. @default false */
  secret?: boolean;
  /** What it is for. */
  description?: string;
}

/** The value type of a field given its options: optional without default adds `undefined`. */
export type FieldValue<T, O> = O extends { default: T }
  ? T
  : O extends { optional: true }
    ? T | undefined
    : T;

/** One problem found while parsing. */
export interface ConfigIssue {
  /** The environment variable at fault. */
  env: string;
  /** What is wrong with it. */
  message: string;
}

/** Thrown by {@link parseConfig} with every problem found, not just the first. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid configuration: ${issues.map((issue) => `${issue.env} ${issue.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Reader<T> = (raw: string, secret: boolean) => FieldResult<T>;

function field<T, O extends FieldOptions<T>>(
  env: string,
  kind: ConfigField<T>['kind'],
  options: O | undefined,
  reader: Reader<T>,
): ConfigField<FieldValue<T, O>> {
  const secret = options?.secret ?? false;

  return {
    env,
    kind,
    secret,
    description: options?.description,
    read(raw) {
      // An empty value counts as unset: compose files and shells often write `NAME=`.
      if (raw === undefined || raw.trim() === '') {
        if (options?.default !== undefined) {
          return { ok: true, value: options.default as FieldValue<T, O> };
        }

        return options?.optional
          ? { ok: true, value: undefined as FieldValue<T, O> }
          : { ok: false, message: 'is required' };
      }

      return reader(raw.trim(), secret) as FieldResult<FieldValue<T, O>>;
    },
  };
}

const shown = (raw: string, secret: boolean): string => (secret ? '' : ` (got ${JSON.stringify(raw)})`);

/** Options of a URL field. */
export interface UrlOptions<T> extends FieldOptions<T> {
  /** Accepted schemes, with the colon (`'postgres:'`); any when omitted. */
  protocols?: readonly string[];
}

function readUrl(
  raw: string,
  secret: boolean,
  protocols: readonly string[] | undefined,
): FieldResult<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: `must be a URL${shown(raw, secret)}` };
  }
  if (protocols && !protocols.includes(url.protocol)) {
    return { ok: false, message: `must use ${protocols.join(' or ')}, not ${url.protocol}` };
  }

  return { ok: true, value: raw };
}

/** Field builders of a config schema. */
export const env = {
  /** A string, optionally checked against a pattern. */
  string<const O extends FieldOptions<string> & { pattern?: RegExp }>(name: string, options?: O) {
    return field<string, O>(name, 'string', options, (raw, secret) =>
      options?.pattern && !options.pattern.test(raw)
        ? { ok: false, message: `must match ${String(options.pattern)}${shown(raw, secret)}` }
        : { ok: true, value: raw },
    );
  },

  /** A decimal integer within optional bounds. */
  int<const O extends FieldOptions<number> & { min?: number; max?: number }>(name: string, options?: O) {
    return field<number, O>(name, 'int', options, (raw, secret) => {
      const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value)) {
        return { ok: false, message: `must be an integer${shown(raw, secret)}` };
      }
      if (
        (options?.min !== undefined && value < options.min) ||
        (options?.max !== undefined && value > options.max)
      ) {
        return {
          ok: false,
          message: `must be between ${options?.min ?? '-∞'} and ${options?.max ?? '∞'}${shown(raw, secret)}`,
        };
      }

      return { ok: true, value };
    });
  },

  /** A TCP port (1–65535). */
  port<const O extends FieldOptions<number>>(name: string, options?: O) {
    return env.int(name, { ...options, min: 1, max: 65_535 } as O & { min: number; max: number });
  },

  /** An absolute URL, kept as the string given. */
  url<const O extends UrlOptions<string>>(name: string, options?: O) {
    return field<string, O>(name, 'url', options, (raw, secret) => readUrl(raw, secret, options?.protocols));
  },

  /** A comma-separated list of absolute URLs (e.g. NATS seed servers). */
  urlList<const O extends UrlOptions<string[]>>(name: string, options?: O) {
    return field<string[], O>(name, 'url', options, (raw, secret) => {
      const parts = raw
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0);
      const values: string[] = [];
      for (const part of parts) {
        const result = readUrl(part, secret, options?.protocols);
        if (!result.ok) {
          return result;
        }
        values.push(result.value);
      }

      return values.length > 0
        ? { ok: true, value: values }
        : { ok: false, message: 'must list at least one URL' };
    });
  },

  /** A boolean: `true|false|1|0|yes|no|on|off`, any case. */
  bool<const O extends FieldOptions<boolean>>(name: string, options?: O) {
    return field<boolean, O>(name, 'bool', options, (raw, secret) => {
      const value = raw.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(value)) {
        return { ok: true, value: true };
      }
      if (['false', '0', 'no', 'off'].includes(value)) {
        return { ok: true, value: false };
      }

      return { ok: false, message: `must be true or false${shown(raw, secret)}` };
    });
  },

  /** One of a fixed set of strings (case-sensitive). */
  enum<const V extends readonly string[], const O extends FieldOptions<V[number]>>(
    name: string,
    values: V,
    options?: O,
  ) {
    return field<V[number], O>(name, 'enum', options, (raw, secret) =>
      values.includes(raw)
        ? { ok: true, value: raw }
        : { ok: false, message: `must be one of ${values.join(', ')}${shown(raw, secret)}` },
    );
  },
} as const;

/**
 * Parses an environment against a schema. Every field is read, and all problems are thrown together in one
 * {@link ConfigError}. Call it once, at start, with `process.env`.
 */
export function parseConfig<S extends ConfigSchema>(schema: S, environment: Environment): ConfigOf<S> {
  const issues: ConfigIssue[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const result = spec.read(environment[spec.env]);
    if (result.ok) {
      config[key] = result.value;
    } else {
      issues.push({ env: spec.env, message: result.message });
    }
  }
  if (issues.length > 0) {
    throw new ConfigError(issues);
  }

  return Object.freeze(config) as ConfigOf<S>;
}

/** Where {@link exitOnConfigError} writes and how it exits; the process by default. */
export interface ExitIo {
  stderr: { write(text: string): unknown };
  exit(code: number): never;
}

/** Prints every problem of a {@link ConfigError} (or the message of any other error) to stderr and exits with 1. */
export function exitOnConfigError(error: unknown, io: ExitIo = process): never {
  if (error instanceof ConfigError) {
    io.stderr.write(
      `invalid configuration (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):\n`,
    );
    for (const issue of error.issues) {
      io.stderr.write(`  ${issue.env} ${issue.message}\n`);
    }
  } else {
    io.stderr.write(`invalid configuration: ${error instanceof Error ? error.message : String(error)}\n`);
  }

  return io.exit(1);
}

/** {@link parseConfig}, or print every problem and exit with 1. */
export function parseConfigOrExit<S extends ConfigSchema>(
  schema: S,
  environment: Environment,
  io?: ExitIo,
): ConfigOf<S> {
  try {
    return parseConfig(schema, environment);
  } catch (error) {
    return exitOnConfigError(error, io);
  }
}

/** A copy of a parsed config that is safe to log: every secret field that has a value is masked. */
export function redactConfig<S extends ConfigSchema>(
  config: ConfigOf<S>,
  schema: S,
): Record<keyof S, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = (config as Record<string, unknown>)[key];
    safe[key] = spec.secret && value !== undefined ? MASK : value;
  }

  return safe as Record<keyof S, unknown>;
}

export { defaultOpsPorts, opsPortEnv };

/** pino levels accepted by `VIVIFIED_LOG_LEVEL`. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One log level. */
export type LogLevel = (typeof logLevels)[number];

/**
 * The schema every service shares; an app spreads it into its own: `{ ...baseConfigSchema('identity'), … }`.
 * `httpHost` defaults to 127.0.0.1 so a local run exposes nothing; containers set `VIVIFIED_HTTP_HOST=0.0.0.0`.
 */
export function baseConfigSchema(service: ServiceName) {
  return {
    natsServers: env.urlList('VIVIFIED_NATS_URL', {
      default: ['nats://127.0.0.1:4222'],
      protocols: ['nats:', 'tls:', 'ws:', 'wss:'],
      description: 'NATS seed servers, comma-separated',
    }),
    natsCredsFile: env.string('VIVIFIED_NATS_CREDS', {
      optional: true,
      secret: true,
      description: 'Path of the NATS user credentials file',
    }),
    databaseUrl: env.url('VIVIFIED_DATABASE_URL', {
      default: 'postgres://postgres@127.0.0.1:5432/vivified',
      protocols: ['postgres:', 'postgresql:'],
      secret: true,
      description: 'PostgreSQL connection string; may hold a password',
    }),
    logLevel: env.enum('VIVIFIED_LOG_LEVEL', logLevels, { default: 'info', description: 'Log level' }),
    otlpEndpoint: env.url('OTEL_EXPORTER_OTLP_ENDPOINT', {
      optional: true,
      protocols: ['http:', 'https:'],
      description: 'OTLP/HTTP collector base URL; no trace export when unset',
    }),
    httpHost: env.string('VIVIFIED_HTTP_HOST', {
      default: '127.0.0.1',
      description: 'Address the HTTP listeners (ops server, gateway API) bind to',
    }),
    opsPort: env.port(opsPortEnv(service), {
      default: defaultOpsPorts[service],
      description: 'Port of /health and /metrics',
    }),
    kekFile: env.string('VIVIFIED_KEK_FILE', {
      default: '.vivified/kek.json',
      description: 'Key-encryption key file (created with mode 0600 on first use) when VIVIFIED_KEK is unset',
    }),
    kek: env.string('VIVIFIED_KEK', {
      optional: true,
      secret: true,
      description:
        'Key-encryption keys inline, `<version>:<base64 32 bytes>` comma-separated, last is current',
    }),
    serviceSecret: env.string('VIVIFIED_SERVICE_SECRET', {
      optional: true,
      secret: true,
      description:
        'Secret the core services exchange for service tokens at identity (at least 32 characters)',
      pattern: /^.{32,}$/,
    }),
  } as const;
}

/** The schema type of {@link baseConfigSchema}. */
export type BaseConfigSchema = ReturnType<typeof baseConfigSchema>;

/** The parsed config every service has. */
export type BaseConfig = ConfigOf<BaseConfigSchema>;
