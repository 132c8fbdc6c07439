import { createAccount, createOperator } from '@nats-io/jwt';
import { Global, Inject, Injectable, Module, Optional } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';
import { afterEach, describe, expect, it } from 'vitest';

import type { PluginNatsCredentials } from '../plugins/plugin-credentials.client';
import { PLUGIN_NATS_CREDENTIALS } from '../plugins/plugin-credentials.client';
import { NatsCredentialsModule } from './nats-credentials.module';
import { NatsCredentialsService } from './nats-credentials.service';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Stands for the plugin lifecycle, which gets the credentials by token from the global module. */
@Injectable()
class Consumer {
  constructor(@Optional() @Inject(PLUGIN_NATS_CREDENTIALS) readonly nats?: PluginNatsCredentials) {}
}

async function boot(config: Record<string, unknown>) {
  @Global()
  @Module({
    providers: [
      { provide: SERVICE_CONFIG, useValue: { natsServers: ['nats://127.0.0.1:1'], ...config } },
      { provide: SERVICE_LOGGER, useValue: createLogger({ service: 'registry', level: 'silent' }) },
    ],
    exports: [SERVICE_CONFIG, SERVICE_LOGGER],
  })
  class Runtime {}

  @Module({ providers: [Consumer] })
  class ConsumerModule {}

  @Module({ imports: [Runtime, ConsumerModule, NatsCredentialsModule] })
  class Root {}

  return NestFactory.createApplicationContext(Root, { logger: false });
}

describe(NatsCredentialsModule.name, () => {
  const apps: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('gives the lifecycle credentials in production mode, with pushed revocation when fully configured', async () => {
    const app = await boot({
      natsAccountSigningSeed: text(createAccount().getSeed()),
      natsAccountPublicKey: createAccount().getPublicKey(),
      natsOperatorSigningSeed: text(createOperator().getSeed()),
      natsSystemCredsFile: '/nonexistent/registry-system.creds',
      natsUserJwtTtlSeconds: 600,
    });
    apps.push(app);

    const service = app.get(NatsCredentialsService);
    expect(service.mode).toBe('production');
    expect(service.revocation).toBe('pushed');
    // the system connection is down (no creds file): issuing does not depend on it
    const creds = await app.get(Consumer).nats?.issue('acme-crm', {} as never);
    expect(creds).toContain('-----BEGIN NATS USER JWT-----');
  });

  it('issues nothing in development mode, even when the boot config lacks every NATS field', async () => {
    const app = await boot({});
    apps.push(app);

    const nats = app.get(Consumer).nats;
    expect(app.get(NatsCredentialsService).revocation).toBe('none');
    expect(await nats?.issue('acme-crm', {} as never)).toBeUndefined();
    await expect(nats?.revoke('acme-crm')).resolves.toBeUndefined();
  });
});
