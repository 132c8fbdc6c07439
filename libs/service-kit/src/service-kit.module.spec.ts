import { Inject, Injectable, Module, Optional } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { AuditEmitter } from './audit-emitter';
import type { ServiceLogger } from './logger';
import { createLogger } from './logger';
import { ServiceMetrics } from './metrics';
import type { ServiceRuntime } from './service-kit.module';
import {
  AUDIT_EMITTER,
  METRICS,
  PG_POOL,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  ServiceKitModule,
} from './service-kit.module';

@Injectable()
class UsersService {
  constructor(
    @Inject(SERVICE_CONFIG) readonly config: { opsPort: number },
    @Inject(SERVICE_LOGGER) readonly logger: ServiceLogger,
    @Inject(METRICS) readonly metrics: ServiceMetrics,
    @Inject(AUDIT_EMITTER) readonly audit: AuditEmitter,
    readonly auditByClass: AuditEmitter,
    @Optional() @Inject(PG_POOL) readonly pool?: Pool,
  ) {}
}

@Module({ providers: [UsersService] })
class UsersModule {}

function runtime(pool?: Pool): ServiceRuntime<{ opsPort: number }> {
  const metrics = new ServiceMetrics({ service: 'identity', processMetrics: false });
  const logger = createLogger({ service: 'identity', level: 'silent' });
  const auditEmitter = new AuditEmitter({
    service: 'identity',
    js: { publish: vi.fn() },
    connection: { isConnected: () => true, onChange: () => () => undefined },
    logger,
    metrics,
  });

  return {
    service: 'identity',
    config: { opsPort: 9101 },
    logger,
    metrics,
    auditEmitter,
    ...(pool ? { pool } : {}),
  };
}

describe(ServiceKitModule.name, () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  async function boot(value: ServiceRuntime<{ opsPort: number }>) {
    @Module({ imports: [ServiceKitModule.forRoot(value), UsersModule] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    closers.push(() => app.close());

    return app.get(UsersService);
  }

  it('makes the runtime injectable in any module, by token and by class', async () => {
    // A pool connects lazily: nothing is opened until a query, so no server is needed here.
    const pool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    closers.push(() => pool.end());
    const value = runtime(pool);

    const sut = await boot(value);

    expect(sut.config).toBe(value.config);
    expect(sut.logger).toBe(value.logger);
    expect(sut.metrics).toBe(value.metrics);
    expect(sut.audit).toBe(value.auditEmitter);
    expect(sut.auditByClass).toBe(value.auditEmitter);
    expect(sut.pool).toBe(value.pool);
  });

  it('leaves PG_POOL out for a service without a database', async () => {
    const sut = await boot(runtime());

    expect(sut.pool).toBeUndefined();
    expect(sut.config.opsPort).toBe(9101);
  });
});
