import { describe, expect, expectTypeOf, it, vi } from 'vitest';

import type { BaseConfig } from './config';
import { MASK } from './sensitive-data';
import {
  ConfigError,
  baseConfigSchema,
  env,
  exitOnConfigError,
  opsPortEnv,
  parseConfig,
  parseConfigOrExit,
  redactConfig,
} from './config';

const schema = {
  name: env.string('APP_NAME'),
  workers: env.int('APP_WORKERS', { default: 4, min: 1, max: 64 }),
  callback: env.url('APP_CALLBACK', { optional: true, protocols: ['https:'] }),
  verbose: env.bool('APP_VERBOSE', { default: false }),
  mode: env.enum('APP_MODE', ['fast', 'safe'] as const, { default: 'safe' }),
  apiKey: env.string('APP_API_KEY', { secret: true }),
};

function fakeIo() {
  const lines: string[] = [];
  const exit = vi.fn((code: number): never => {
    throw new Error(`exit ${code}`);
  });

  return { io: { stderr: { write: (text: string) => lines.push(text) }, exit }, lines, exit };
}

describe(parseConfig.name, () => {
  it('parses every kind of field into a typed, frozen tree', () => {
    const sut = parseConfig(schema, {
      APP_NAME: 'demo',
      APP_WORKERS: '8',
      APP_CALLBACK: 'https://example.org/cb',
      APP_VERBOSE: 'YES',
      APP_MODE: 'fast',
      APP_API_KEY: 'k-123',
    });

    expect(sut).toEqual({
      name: 'demo',
      workers: 8,
      callback: 'https://example.org/cb',
      verbose: true,
      mode: 'fast',
      apiKey: 'k-123',
    });
    expect(Object.isFrozen(sut)).toBe(true);
    expectTypeOf(sut.workers).toEqualTypeOf<number>();
    expectTypeOf(sut.callback).toEqualTypeOf<string | undefined>();
    expectTypeOf(sut.mode).toEqualTypeOf<'fast' | 'safe'>();
    expectTypeOf(sut.name).toEqualTypeOf<string>();
  });

  it('applies defaults for unset and empty variables', () => {
    const sut = parseConfig(schema, { APP_NAME: 'demo', APP_API_KEY: 'k', APP_WORKERS: '' });

    expect(sut).toMatchObject({ workers: 4, verbose: false, mode: 'safe', callback: undefined });
  });

  it('collects every problem instead of stopping at the first', () => {
    const run = () =>
      parseConfig(schema, {
        APP_WORKERS: '0',
        APP_CALLBACK: 'http://example.org',
        APP_VERBOSE: 'maybe',
        APP_MODE: 'x',
      });

    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (error) {
      expect((error as ConfigError).issues.map((issue) => issue.env)).toEqual([
        'APP_NAME',
        'APP_WORKERS',
        'APP_CALLBACK',
        'APP_VERBOSE',
        'APP_MODE',
        'APP_API_KEY',
      ]);
    }
  });

  it('never echoes the value of an invalid secret', () => {
    const secretUrl = { db: env.url('DB', { secret: true }) };

    expect(() => parseConfig(secretUrl, { DB: 'not a url s3cr3t' })).toThrow(
      /^invalid configuration: DB must be a URL$/,
    );
    expect(() => parseConfig({ n: env.int('N') }, { N: '1.5' })).toThrow(
      /N must be an integer \(got "1.5"\)/,
    );
  });
});

describe(baseConfigSchema.name, () => {
  it('gives every service its defaults, secure by default', () => {
    const sut: BaseConfig = parseConfig(baseConfigSchema('event-router'), {});

    expect(sut).toEqual({
      natsServers: ['nats://127.0.0.1:4222'],
      natsCredsFile: undefined,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/vivified',
      logLevel: 'info',
      otlpEndpoint: undefined,
      httpHost: '127.0.0.1',
      opsPort: 9105,
      kekFile: '.vivified/kek.json',
      kek: undefined,
      serviceSecret: undefined,
    });
  });

  it('reads a comma list of NATS servers and the per-service ops port', () => {
    const sut = parseConfig(baseConfigSchema('identity'), {
      VIVIFIED_NATS_URL: 'nats://a:4222, tls://b:4222',
      VIVIFIED_IDENTITY_OPS_PORT: '19101',
    });

    expect(sut.natsServers).toEqual(['nats://a:4222', 'tls://b:4222']);
    expectTypeOf(sut.natsServers).toEqualTypeOf<string[]>();
    expectTypeOf(sut.natsCredsFile).toEqualTypeOf<string | undefined>();
    expectTypeOf(sut.logLevel).toEqualTypeOf<
      'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    >();
    expect(sut.opsPort).toBe(19101);
    expect(opsPortEnv('event-router')).toBe('VIVIFIED_EVENT_ROUTER_OPS_PORT');
  });

  it('refuses a database URL of another scheme and an out-of-range port', () => {
    expect(() =>
      parseConfig(baseConfigSchema('gateway'), {
        VIVIFIED_DATABASE_URL: 'mysql://root:pw@db/x',
        VIVIFIED_GATEWAY_OPS_PORT: '70000',
      }),
    ).toThrow(
      /VIVIFIED_DATABASE_URL must use postgres: or postgresql:, not mysql:.*VIVIFIED_GATEWAY_OPS_PORT/,
    );
  });
});

describe(redactConfig.name, () => {
  it('masks secrets that have a value and leaves the rest', () => {
    const base = baseConfigSchema('audit');
    const config = parseConfig(base, { VIVIFIED_DATABASE_URL: 'postgres://app:hunter2@db:5432/vivified' });

    const sut = redactConfig(config, base);

    expect(sut['databaseUrl']).toBe(MASK);
    expect(sut['natsCredsFile']).toBeUndefined();
    expect(sut['opsPort']).toBe(9104);
    expect(JSON.stringify(sut)).not.toContain('hunter2');
  });
});

describe(exitOnConfigError.name, () => {
  it('prints every problem to stderr and exits with 1', () => {
    const { io, lines, exit } = fakeIo();

    expect(() => parseConfigOrExit(schema, { APP_MODE: 'x' }, io)).toThrow('exit 1');
    expect(exit).toHaveBeenCalledWith(1);
    expect(lines.join('')).toBe(
      [
        'invalid configuration (3 problems):',
        '  APP_NAME is required',
        '  APP_MODE must be one of fast, safe (got "x")',
        '  APP_API_KEY is required',
        '',
      ].join('\n'),
    );
  });

  it('reports an unexpected error by its message', () => {
    const { io, lines } = fakeIo();

    expect(() => exitOnConfigError(new Error('boom'), io)).toThrow('exit 1');
    expect(lines).toEqual(['invalid configuration: boom\n']);
  });
});
