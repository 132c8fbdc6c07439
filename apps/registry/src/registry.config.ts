import type { BaseConfig, ConfigOf } from '@vivified/service-kit';
import { env } from '@vivified/service-kit';

/** The registry's own config fields for plugins and their health, parsed with the common ones at start. */
export const registryServiceConfigSchema = {
  healthSweepMs: env.int('VIVIFIED_REGISTRY_HEALTH_SWEEP_MS', {
    default: 5000,
    min: 100,
    max: 60_000,
    description: 'How often plugin health is recomputed from missed heartbeats, in milliseconds',
  }),
} as const;

/** The parsed config of the registry service. */
export type RegistryServiceConfig = BaseConfig & ConfigOf<typeof registryServiceConfigSchema>;
