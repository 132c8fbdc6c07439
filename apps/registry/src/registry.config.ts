import type { BaseConfig, ConfigOf } from '@vivified/service-kit';
import { env } from '@vivified/service-kit';

import { natsCredentialsConfigSchema } from './nats-credentials/nats-credentials.config';

/**
 * The registry's own config fields, parsed with the common ones at start: plugin health, and the NATS credential
 * settings of production mode (docs/nats-auth.md).
 */
export const registryServiceConfigSchema = {
  healthSweepMs: env.int('VIVIFIED_REGISTRY_HEALTH_SWEEP_MS', {
    default: 5000,
    min: 100,
    max: 60_000,
    description: 'How often plugin health is recomputed from missed heartbeats, in milliseconds',
  }),
  ...natsCredentialsConfigSchema,
} as const;

/** The parsed config of the registry service. */
export type RegistryServiceConfig = BaseConfig & ConfigOf<typeof registryServiceConfigSchema>;
