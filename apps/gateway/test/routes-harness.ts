import { randomBytes } from 'node:crypto';

import { connectNats } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import type { BuiltService, TestDatabase, TestNatsServer } from '@vivified/testing';
import {
  createTestDatabase,
  startBuiltService,
  startNatsServer,
  TestAuthority,
  waitFor,
} from '@vivified/testing';
import type { NatsConnection } from 'nats';

import { startGatewayInProcess } from './gateway-in-process';

/** The services the gateway's routes reach, each started from its build output. */
const BACKENDS = ['identity', 'policy', 'registry', 'audit', 'event-router'] as const;

/** One HTTP request to the gateway. */
export interface HttpCall {
  method: string;
  /** Path with its query string. */
  path: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

/** One HTTP answer, the body parsed when it is JSON. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/**
 * The whole platform behind the gateway: every core service as a built process (identity, policy, registry, audit,
 * event-router) on a NATS server and database of their own, the gateway in this process, and a TestAuthority whose
 * key every service accepts (for principals identity cannot create without MFA, and for expired tokens).
 */
export class RoutesHarness {
  nc!: NatsConnection;
  authority!: TestAuthority;
  gateway!: RunningService;
  base!: string;
  private db!: TestDatabase;
  private readonly children: BuiltService[] = [];

  private constructor(private readonly nats: TestNatsServer) {}

  static async start(options: {
    adminPassword: string;
    env: Record<string, string>;
  }): Promise<RoutesHarness> {
    const [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_gw_routes')]);
    const harness = new RoutesHarness(nats);
    harness.db = db;
    const shared = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
      VIVIFIED_LOG_LEVEL: process.env['ROUTES_LOG'] ?? 'warn',
    };
    const started = Date.now();
    const mark = (what: string) => {
      if (process.env['ROUTES_TIMING']) {
        console.info(`${what} after ${Date.now() - started} ms`);
      }
    };
    // identity first: it creates the JWKS bucket and the first admin, the others need nothing from each other
    await harness.startBuilt('identity', { ...shared, VIVIFIED_ADMIN_PASSWORD: options.adminPassword });
    mark('identity ready');
    await Promise.all(BACKENDS.slice(1).map((service) => harness.startBuilt(service, shared)));
    mark('backends ready');
    ({ nc: harness.nc } = await connectNats({ servers: [nats.url], name: 'gateway-routes-test' }));
    harness.authority = await TestAuthority.create(harness.nc);
    ({ gateway: harness.gateway, base: harness.base } = await startGatewayInProcess(
      { ...shared, VIVIFIED_LOG_LEVEL: process.env['ROUTES_LOG'] ?? 'silent', ...options.env },
      { forget: Object.keys(options.env) },
    ));
    mark('gateway started');
    await waitFor(
      async () => (await harness.call({ method: 'GET', path: '/.well-known/jwks.json' })).status === 200,
      {
        timeoutMs: 10_000,
        what: 'the gateway to serve the JWKS',
      },
    );

    return harness;
  }

  /** Sends one request; a string body is sent as is (for malformed JSON), anything else as JSON. */
  async call(request: HttpCall): Promise<HttpAnswer> {
    const response = await fetch(`${this.base}${request.path}`, {
      method: request.method,
      headers: {
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
        ...request.headers,
      },
      ...(request.body === undefined
        ? {}
        : { body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body) }),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    if (text && (response.headers.get('content-type') ?? '').includes('application/json')) {
      body = JSON.parse(text) as Record<string, unknown>;
    }

    return { status: response.status, headers: response.headers, body, text };
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    await this.nc?.drain().catch(() => undefined);
    await Promise.all(this.children.map((child) => child.stop()));
    await Promise.allSettled([this.nats.stop(), this.db?.drop()]);
  }

  /** What a backend wrote, for a failure message. */
  output(): string {
    return this.children.map((child) => `--- ${child.name}\n${child.output()}`).join('\n');
  }

  private async startBuilt(service: (typeof BACKENDS)[number], env: Record<string, string>): Promise<void> {
    this.children.push(await startBuiltService(service, { env }));
  }
}
