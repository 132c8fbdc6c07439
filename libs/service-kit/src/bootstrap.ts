import type {
  DynamicModule,
  INestApplication,
  INestApplicationContext,
  INestMicroservice,
  Type,
} from '@nestjs/common';
import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { JwksKeyStore, ServiceTokenProvider, TokenVerifier } from '@vivified/auth';
import type { ServiceName } from '@vivified/contracts';
import { bucketsOwnedBy, streamsOwnedBy } from '@vivified/contracts';
import { createKekProvider, EnvelopeCipher } from '@vivified/crypto';
import {
  connectNats,
  ensureBucket,
  ensureStream,
  NatsTransport,
  PassThroughRpcExceptionFilter,
  VivifiedClient,
} from '@vivified/nats-transport';
import { bundleVerificationKey, startPolicySidecar } from '@vivified/policy-sidecar';
import type { NatsConnection } from 'nats';
import type { Pool } from 'pg';

import { AuditEmitter } from './audit-emitter';
import type { BaseConfig, ConfigSchema } from './config';
import { baseConfigSchema, parseConfigOrExit, redactConfig } from './config';
import {
  connectWithRetry,
  createPool,
  ensureDatabase,
  postgresReadinessCheck,
  runMigrations,
} from './database';
import { InfoService } from './info.service';
import { createLogger, NestLoggerAdapter } from './logger';
import { ServiceMetrics } from './metrics';
import { NatsConnectionMonitor } from './nats-health';
import { OpsServer } from './ops-server';
import { ServiceKitModule } from './service-kit.module';

/** HKDF purpose of the service secret derived from the KEK when `VIVIFIED_SERVICE_SECRET` is unset. */
const SERVICE_SECRET_PURPOSE = 'vivified.service-secret';

/** Injection token of the service's NATS connection. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

/** Options of {@link bootstrapService}. */
export interface BootstrapOptions {
  /** Which service this process is. */
  service: ServiceName;
  /** Its version (semver). */
  version: string;
  /** The app's root module. */
  module: Type<unknown>;
  /** Folder of the service's SQL migrations, for services that own data; its schema is the service name. */
  migrationsDir?: string;
  /** Extra config fields of the service, parsed with the common ones. */
  configSchema?: ConfigSchema;
  /** Serve the app's HTTP controllers (the gateway's API). */
  http?: HttpOptions;
  /** Called last when the service stops (flushes telemetry). */
  onStopped?: () => Promise<void>;
}

/** How a service serves HTTP controllers besides its ops port. */
export interface HttpOptions {
  /** The config field that holds the port. */
  portField: string;
  /** Fastify options read from the config (proxy trust, body limit). */
  adapterOptions?: (config: BaseConfig & Record<string, unknown>) => {
    trustProxy?: boolean;
    bodyLimit?: number;
  };
  /**
   * Called before the app listens and before the NATS transport is connected: plugins, global filters, documents.
   * A global filter set here must hand NATS handlers' errors back unchanged (as `PassThroughRpcExceptionFilter`
   * does), since the microservice inherits it.
   */
  configure?: (app: NestFastifyApplication, config: BaseConfig & Record<string, unknown>) => Promise<void>;
}

/** A running service, for tests and for `main.ts` to stop. */
export interface RunningService {
  readonly ops: OpsServer;
  readonly nc: NatsConnection;
  /** The Nest app, to get providers from (tests). */
  readonly app: INestApplicationContext;
  stop(): Promise<void>;
}

function schemaOf(service: ServiceName): string {
  return service.replace(/-/g, '_');
}

/**
 * Starts one core service: config (fail fast), JSON logs, metrics and health on the ops port, PostgreSQL with
 * migrations (retrying until reachable), NATS (reconnecting forever), the streams and buckets it owns, the
 * signing keys, the policy sidecar on every non-public handler (token, live plugin status, local decision over
 * the signed bundle from KV, decision audit), the service token (with
 * `VIVIFIED_SERVICE_SECRET`), the audit emitter, and the Nest app on the NATS transport. SIGTERM/SIGINT drain
 * everything in order.
 */
export async function bootstrapService(options: BootstrapOptions): Promise<RunningService> {
  const { service } = options;
  const schema = { ...baseConfigSchema(service), ...(options.configSchema ?? {}) };
  const parsed = parseConfigOrExit(schema, process.env) as BaseConfig & Record<string, unknown>;
  const logger = createLogger({ service, level: parsed.logLevel });
  logger.info({ config: redactConfig(parsed, schema), version: options.version }, 'starting');
  // inline keys are parsed here (a bad VIVIFIED_KEK fails the start); a key file is read, or created, on first use
  const kekProvider = createKekProvider({ kek: parsed.kek, kekFile: parsed.kekFile });
  // without VIVIFIED_SERVICE_SECRET the core services share one derived from the KEK they all hold (ADR-0005)
  const config: BaseConfig & Record<string, unknown> = {
    ...parsed,
    serviceSecret:
      parsed.serviceSecret ??
      Buffer.from(await kekProvider.hashKey(SERVICE_SECRET_PURPOSE)).toString('base64url'),
  };
  const cipher = new EnvelopeCipher(kekProvider);
  const metrics = new ServiceMetrics({ service });
  const ops = new OpsServer({ service, host: config.httpHost, port: config.opsPort, metrics, logger });
  let started = false;
  // not ready until everything below is up: an ops port that answers early must not say "ok"
  ops.addCheck('startup', () => Promise.resolve(started ? { ok: true } : { ok: false, detail: 'starting' }));
  await ops.listen();

  let pool: Pool | undefined;
  if (options.migrationsDir) {
    const dir = options.migrationsDir;
    await connectWithRetry(() => ensureDatabase(config.databaseUrl, logger), { what: 'PostgreSQL', logger });
    pool = createPool({
      url: config.databaseUrl,
      schema: schemaOf(service),
      applicationName: service,
      logger,
    });
    const ready = pool;
    await connectWithRetry(() => runMigrations(ready, { schema: schemaOf(service), dir, logger }), {
      what: 'migrations',
      logger,
    });
    ops.addCheck('postgres', postgresReadinessCheck(pool));
  }

  const { nc } = await connectNats({
    servers: config.natsServers,
    name: service,
    logger,
    ...(config.natsCredsFile ? { credsFile: config.natsCredsFile } : {}),
  });
  const monitor = new NatsConnectionMonitor(nc, { metrics, logger });
  ops.addCheck('nats', monitor.readinessCheck());
  let ensured = false;
  ops.addCheck('jetstream', () =>
    Promise.resolve(ensured ? { ok: true } : { ok: false, detail: 'streams not ensured' }),
  );
  await connectWithRetry(
    async () => {
      const jsm = await nc.jetstreamManager();
      for (const stream of streamsOwnedBy(service)) {
        await ensureStream(jsm, stream);
      }
      for (const bucket of bucketsOwnedBy(service)) {
        await ensureBucket(nc, bucket);
      }
    },
    { what: 'JetStream streams and buckets', logger },
  );
  ensured = true;

  // identity owns the key bucket; elsewhere it may not exist yet: the store waits for it in the background and
  // the guard answers UNAVAILABLE keys_unavailable until a key is known
  const keyStore = new JwksKeyStore(nc, { logger });
  await keyStore.start();
  const verifier = new TokenVerifier({ keys: keyStore });
  // lazy: nothing is exchanged until the first outgoing request, so identity never waits on itself at start;
  // the exchange goes through a client of its own, without a token
  const tokenProvider = new ServiceTokenProvider({
    client: new VivifiedClient(nc),
    service,
    secret: config.serviceSecret as string,
    logger,
  });
  const client = new VivifiedClient(nc, { token: () => tokenProvider.token() });

  const auditEmitter = new AuditEmitter({
    service,
    js: nc.jetstream(),
    connection: monitor,
    logger,
    metrics,
  });
  // the policy sidecar guards every non-public handler; the plugin and policy buckets belong to registry and
  // policy: until they exist every plugin is inactive and the built-in rules decide (empty bundle, version 0)
  const policy = await startPolicySidecar(nc, {
    verifier,
    publicKey: await bundleVerificationKey(kekProvider),
    audit: auditEmitter,
    metrics,
    logger,
  });
  const info = new InfoService(service, options.version);

  @Global()
  @Module({
    providers: [
      { provide: NATS_CONNECTION, useValue: nc },
      { provide: VivifiedClient, useValue: client },
      { provide: InfoService, useValue: info },
      { provide: OpsServer, useValue: ops },
    ],
    exports: [NATS_CONNECTION, VivifiedClient, InfoService, OpsServer],
  })
  class RuntimeModule {}

  const root: DynamicModule = {
    module: class ServiceRootModule {},
    imports: [
      ServiceKitModule.forRoot({
        service,
        config,
        logger,
        metrics,
        auditEmitter,
        keyStore,
        verifier,
        policySidecar: policy.sidecar,
        kekProvider,
        cipher,
        ...(pool ? { pool } : {}),
        tokenProvider,
      }),
      RuntimeModule,
      options.module,
    ],
  };
  const strategy = new NatsTransport({
    connection: nc,
    queue: service,
    guard: policy.sidecar,
    observer: metrics,
    logger,
  });
  const nestLogger = new NestLoggerAdapter(logger);
  let app: INestApplication | INestMicroservice;
  if (options.http) {
    const { http: httpOptions } = options;
    const http = await NestFactory.create<NestFastifyApplication>(
      root,
      new FastifyAdapter({ trustProxy: false, ...httpOptions.adapterOptions?.(config) }),
      { logger: nestLogger },
    );
    if (httpOptions.configure) {
      await httpOptions.configure(http, config);
    } else {
      http.useGlobalFilters(new PassThroughRpcExceptionFilter());
    }
    // after the global filters: connecting creates the NATS handlers, and each takes the global filters there
    // are at that moment (Nest's ExceptionFiltersContext); one added later would leave them on Nest's default
    // RPC filter, which turns every typed error into "Internal server error"
    http.connectMicroservice({ strategy }, { inheritAppConfig: true });
    await http.startAllMicroservices();
    await http.listen(config[httpOptions.portField] as number, config.httpHost);
    app = http;
  } else {
    const micro = await NestFactory.createMicroservice(root, { strategy, logger: nestLogger });
    micro.useGlobalFilters(new PassThroughRpcExceptionFilter());
    await micro.listen();
    app = micro;
  }
  started = true;
  logger.info({ ops: ops.address, nats: nc.getServer() }, 'ready');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({}, 'stopping');
      await app.close();
      await auditEmitter.close();
      await policy.stop();
      await keyStore.stop();
      await nc.drain().catch(() => undefined);
      await pool?.end();
      await ops.close();
      logger.info({}, 'stopped');
      await options.onStopped?.();
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'unclean stop');
          process.exit(1);
        },
      );
    });
  }

  return { ops, nc, app, stop };
}
