import { pluginNetworkRangesField } from '@vivified/egress';
import type { BaseConfig, ConfigOf } from '@vivified/service-kit';
import { env } from '@vivified/service-kit';

import { natsCredentialsConfigSchema } from './nats-credentials/nats-credentials.config';

/**
 * HTTP health polling of `healthCheck.type: http` plugins (appended; docs/registry.md "HTTP health checks"): the
 * polls go through the shared egress policy of @vivified/egress, like webhooks and operator-lane calls.
 */
export const healthPollConfigSchema = {
  healthPollTimeoutMs: env.int('VIVIFIED_REGISTRY_HEALTH_POLL_TIMEOUT_MS', {
    default: 5000,
    min: 100,
    max: 60_000,
    description:
      'How long one HTTP health poll waits for its answer (at most the plugin interval), in milliseconds',
  }),
  healthPollCaFile: env.string('VIVIFIED_REGISTRY_HEALTH_CA_FILE', {
    optional: true,
    description: 'Extra CA certificates (PEM) trusted for HTTP health polls of plugins, for private CAs',
  }),
  pluginNetworkRanges: pluginNetworkRangesField(),
  egressTestAllowRanges: env.string('VIVIFIED_PROXY_TEST_ALLOW_RANGES', {
    optional: true,
    description:
      'TESTS ONLY: comma-separated CIDR ranges health polls may reach whatever they are, loopback included (refused in production)',
  }),
  production: env.bool('VIVIFIED_PRODUCTION', {
    default: false,
    description: 'Production mode: test-only settings (VIVIFIED_PROXY_TEST_ALLOW_RANGES) refuse to start',
  }),
} as const;

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
  ...healthPollConfigSchema,
} as const;

/** The parsed config of the registry service. */
export type RegistryServiceConfig = BaseConfig & ConfigOf<typeof registryServiceConfigSchema>;
