import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable, Module } from '@nestjs/common';
import type { KekProvider } from '@vivified/crypto';
import { KeyedHasher } from '@vivified/crypto';
import type { ServiceLogger } from '@vivified/service-kit';
import { KEK_PROVIDER, SERVICE_LOGGER } from '@vivified/service-kit';

import { PluginAudit } from './plugin-audit';
import { PluginCredentialsClient } from './plugin-credentials.client';
import { PluginLifecycleClient } from './plugin-lifecycle.client';
import { PluginStatusClient } from './plugin-status.client';
import { PluginsHandlers, RegistrationTokensHandlers } from './plugins.handlers';
import { PluginsRepository } from './plugins.repository';
import { PluginsService } from './plugins.service';
import { RegistrationTokensRepository } from './registration-tokens.repository';
import { REGISTRATION_TOKEN_HASHER, RegistrationTokensService } from './registration-tokens.service';

/** How often the bucket is compared with the database after the start. */
const RECONCILE_EVERY_MS = 30_000;

/**
 * Writes every plugin's entry to `vivified_plugins` at start and every 30 s when it differs, so the bucket
 * matches the database after a publish that failed after a commit (or a bucket that was lost).
 */
@Injectable()
export class PluginStatusReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly plugins: PluginsService,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) =>
        this.log.warn({ err: error }, 'plugin status reconciliation failed'),
      );
    }, RECONCILE_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async run(): Promise<void> {
    const written = await this.plugins.reconcile();
    if (written > 0) {
      this.log.info({ written }, 'plugin status entries reconciled');
    }
  }
}

/** Registration, approval, lifecycle and registration tokens. */
@Module({
  controllers: [PluginsHandlers, RegistrationTokensHandlers],
  providers: [
    PluginsRepository,
    RegistrationTokensRepository,
    PluginsService,
    RegistrationTokensService,
    PluginAudit,
    PluginStatusClient,
    PluginLifecycleClient,
    PluginCredentialsClient,
    PluginStatusReconciler,
    {
      provide: REGISTRATION_TOKEN_HASHER,
      useFactory: (keks: KekProvider) => KeyedHasher.fromProvider(keks, 'registry.registration-token'),
      inject: [KEK_PROVIDER],
    },
  ],
  exports: [PluginsRepository, PluginAudit, PluginsService],
})
export class PluginsModule {}
