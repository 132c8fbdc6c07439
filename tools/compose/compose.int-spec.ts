import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { defaultOpsPorts, serviceNames } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

/**
 * docker-compose.yml, the Dockerfile and the Prometheus config, checked without a Docker engine: compose
 * validates and resolves the file (`config`), and the resolved services are checked against ARCHITECTURE §9.
 * Needs `docker compose` (v2 plugin) or `docker-compose` (1.29, Debian's); without either this test fails,
 * on purpose: .ci/run installs docker-compose.
 */

const root = join(__dirname, '..', '..');

const coreServices = serviceNames.map((name) => [name, defaultOpsPorts[name]] as const);

interface LongPort {
  target: number;
  published?: string | number;
  host_ip?: string;
}

interface ComposeService {
  image?: string;
  command?: string[] | string;
  build?: { context?: string; args?: Record<string, string> };
  user?: string;
  environment?: Record<string, string | null>;
  ports?: (string | LongPort)[];
  depends_on?: Record<string, { condition?: string }>;
  volumes?: (string | { source?: string; target?: string })[];
}

interface ComposeConfig {
  services: Record<string, ComposeService>;
}

interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], input?: string): CommandResult {
  // Our own variables are left out, so the file's defaults are what gets checked.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VIVIFIED_')),
  );
  const result = spawnSync(command, args, { cwd: root, env, input, encoding: 'utf8', timeout: 60_000 });

  return {
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? String(result.error ?? ''),
  };
}

/** The compose command that works here: the v2 plugin first, then docker-compose 1.x. */
function findCompose(): { command: string; args: string[]; v2: boolean } | undefined {
  if (run('docker', ['compose', 'version']).status === 0) {
    return { command: 'docker', args: ['compose'], v2: true };
  }
  if (run('docker-compose', ['version']).status === 0) {
    return { command: 'docker-compose', args: [], v2: false };
  }

  return undefined;
}

/**
 * The resolved config as data. The v2 plugin prints JSON; docker-compose 1.x prints only YAML, which its own
 * YAML library (python3-yaml, a dependency of Debian's docker-compose) turns into JSON.
 */
function resolvedConfig(compose: NonNullable<ReturnType<typeof findCompose>>): ComposeConfig {
  if (compose.v2) {
    const result = run(compose.command, [...compose.args, 'config', '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);

    return JSON.parse(result.stdout) as ComposeConfig;
  }
  const yaml = run(compose.command, [...compose.args, 'config']);
  expect(yaml.status, yaml.stderr).toBe(0);
  const json = run(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    yaml.stdout,
  );
  expect(json.status, `python3 with PyYAML could not read the compose output: ${json.stderr}`).toBe(0);

  return JSON.parse(json.stdout) as ComposeConfig;
}

/** `[published, target]` of each port mapping, from the short (`127.0.0.1:9101:9101/tcp`) or long form. */
function portMappings(service: ComposeService | undefined): [number, number][] {
  return (service?.ports ?? []).map((port) => {
    if (typeof port !== 'string') {
      return [Number(port.published), port.target];
    }
    const parts = port.replace(/\/\w+$/, '').split(':');

    return [Number(parts.at(-2)), Number(parts.at(-1))];
  });
}

const missingCompose =
  'neither `docker compose` nor `docker-compose` works here: install one ' +
  '(apt-get install -y docker-compose, as .ci/run does). This test does not skip.';

describe('docker-compose.yml', () => {
  // Found once; every test fails by itself when there is none (a failing hook would mark them skipped).
  const compose = findCompose();
  let resolved: ComposeConfig | undefined;

  function requireCompose(): NonNullable<typeof compose> {
    if (!compose) {
      throw new Error(missingCompose);
    }

    return compose;
  }

  const services = (): ComposeConfig['services'] => {
    resolved ??= resolvedConfig(requireCompose());

    return resolved.services;
  };

  it('is valid (`config -q` exits 0)', () => {
    const { command, args } = requireCompose();
    const result = run(command, [...args, 'config', '-q']);

    expect(result.status, result.stderr).toBe(0);
  });

  it('defines the infrastructure and the six services', () => {
    expect(Object.keys(services()).sort()).toEqual(
      [...coreServices.map(([name]) => name), 'nats', 'postgres', 'jaeger', 'prometheus'].sort(),
    );
  });

  it('runs NATS with JetStream and monitoring, PostgreSQL 15, Jaeger with OTLP and Prometheus', () => {
    const { nats, postgres, jaeger, prometheus } = services();
    const natsCommand = [nats?.command ?? []].flat().join(' ');

    expect(nats?.image).toMatch(/^nats:2\.10/);
    expect(natsCommand).toContain('-js');
    expect(natsCommand).toContain('-m 8222');
    expect(postgres?.image).toMatch(/^postgres:15/);
    expect(jaeger?.image).toMatch(/^jaegertracing\/all-in-one:/);
    expect(jaeger?.environment?.['COLLECTOR_OTLP_ENABLED']).toBe('true');
    expect(JSON.stringify(prometheus?.volumes)).toContain('deploy/prometheus/prometheus.yml');
  });

  describe.each(coreServices)('%s', (name, opsPort) => {
    it('is built from the one Dockerfile for this service', () => {
      expect(services()[name]?.build?.args?.['SERVICE']).toBe(name);
    });

    it('runs as a non-root user', () => {
      const user = services()[name]?.user ?? '';

      expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    });

    it('reaches NATS, PostgreSQL and Jaeger by service name and listens on all interfaces', () => {
      const environment = services()[name]?.environment ?? {};

      expect(environment['VIVIFIED_NATS_URL']).toBe('nats://nats:4222');
      expect(new URL(environment['VIVIFIED_DATABASE_URL'] ?? 'invalid:').host).toBe('postgres:5432');
      expect(environment['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe('http://jaeger:4318');
      expect(environment['VIVIFIED_HTTP_HOST']).toBe('0.0.0.0');
    });

    it(`publishes its ops port ${opsPort}`, () => {
      expect(portMappings(services()[name])).toContainEqual([opsPort, opsPort]);
    });

    it('waits for healthy NATS and PostgreSQL', () => {
      const dependsOn = services()[name]?.depends_on ?? {};

      expect(dependsOn['nats']?.condition).toBe('service_healthy');
      expect(dependsOn['postgres']?.condition).toBe('service_healthy');
    });
  });

  it('publishes the gateway HTTP API on 8080', () => {
    expect(portMappings(services()['gateway'])).toContainEqual([8080, 8080]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('runs the service as a non-root user', () => {
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1]);

    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('picks the service with ARG SERVICE and checks its health on the ops port', () => {
    expect(runtime).toMatch(/^ARG SERVICE$/m);
    expect(runtime).toMatch(/^ENV [\s\S]*VIVIFIED_SERVICE=\$\{SERVICE\}/m);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  const prometheus = readFileSync(join(root, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8');

  it.each(coreServices)('scrapes %s on its ops port', (name, opsPort) => {
    expect(prometheus).toMatch(new RegExp(`^\\s+- ${name}:${opsPort}$`, 'm'));
  });
});
