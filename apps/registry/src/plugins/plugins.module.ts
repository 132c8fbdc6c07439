import type { OnApplicationBootstrap } from '@nestjs/common';
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

/** Writes every plugin's entry to `vivified_plugins` at start, so the bucket matches the database. */
@Injectable()
export class PluginStatusReconciler implements OnApplicationBootstrap {
  constructor(
    private readonly plugins: PluginsService,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
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
