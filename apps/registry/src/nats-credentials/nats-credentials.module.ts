import type { OnApplicationShutdown } from '@nestjs/common';
import { Global, Inject, Module, Optional } from '@nestjs/common';
import type { BaseConfig, ServiceLogger } from '@vivified/service-kit';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';

import type { PluginNatsCredentials } from '../plugins/plugin-credentials.client';
import { PLUGIN_NATS_CREDENTIALS } from '../plugins/plugin-credentials.client';
import type { AccountClaimsStore } from './account-claims.client';
import { NatsAccountClaimsClient } from './account-claims.client';
import type { NatsCredentialsConfig } from './nats-credentials.config';
import type { NatsCredentialsOptions } from './nats-credentials.service';
import {
  ACCOUNT_CLAIMS_STORE,
  NATS_CREDENTIALS_OPTIONS,
  NatsCredentialsService,
} from './nats-credentials.service';

/** Default of `VIVIFIED_NATS_USER_JWT_TTL_SECONDS`, for a boot whose config schema lacks the field (tests). */
const DEFAULT_TTL_SECONDS = 86_400;

/** The config as a boot gives it: without {@link natsCredentialsConfigSchema} every field is absent. */
type Config = BaseConfig & Partial<NatsCredentialsConfig>;

/**
 * Plugin NATS credentials (production mode, docs/nats-auth.md): {@link NatsCredentialsService} from the
 * registry's `VIVIFIED_NATS_*` variables, with a system-account connection for revocations when
 * `VIVIFIED_NATS_SYSTEM_CREDS` and `VIVIFIED_NATS_OPERATOR_SIGNING_SEED` are set. Global: the plugin lifecycle
 * gets it as `PLUGIN_NATS_CREDENTIALS`.
 */
@Global()
@Module({
  providers: [
    {
      provide: NATS_CREDENTIALS_OPTIONS,
      inject: [SERVICE_CONFIG],
      useFactory: (config: Config): NatsCredentialsOptions => ({
        accountSigningSeed: config.natsAccountSigningSeed,
        accountPublicKey: config.natsAccountPublicKey,
        operatorSigningSeed: config.natsOperatorSigningSeed,
        userJwtTtlSeconds: config.natsUserJwtTtlSeconds ?? DEFAULT_TTL_SECONDS,
      }),
    },
    {
      provide: ACCOUNT_CLAIMS_STORE,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
      useFactory: (config: Config, logger: ServiceLogger): AccountClaimsStore | undefined =>
        config.natsAccountSigningSeed && config.natsOperatorSigningSeed && config.natsSystemCredsFile
          ? new NatsAccountClaimsClient({
              servers: config.natsServers,
              credsFile: config.natsSystemCredsFile,
              logger,
            })
          : undefined,
    },
    NatsCredentialsService,
    {
      provide: PLUGIN_NATS_CREDENTIALS,
      inject: [NatsCredentialsService],
      useFactory: (service: NatsCredentialsService): PluginNatsCredentials => ({
        issue: async (pluginId) => (await service.issueUser(pluginId))?.creds,
        revoke: async (pluginId) => {
          await service.revokeUser(pluginId);
        },
      }),
    },
  ],
  exports: [NatsCredentialsService, PLUGIN_NATS_CREDENTIALS],
})
export class NatsCredentialsModule implements OnApplicationShutdown {
  constructor(@Optional() @Inject(ACCOUNT_CLAIMS_STORE) private readonly claims?: AccountClaimsStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.claims?.close();
  }
}
