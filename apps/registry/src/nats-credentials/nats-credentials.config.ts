import type { BaseConfig, ConfigOf } from '@vivified/service-kit';
import { env } from '@vivified/service-kit';

/** The registry's NATS credentials fields (production mode, docs/nats-auth.md), parsed with the others at start. */
export const natsCredentialsConfigSchema = {
  natsAccountSigningSeed: env.string('VIVIFIED_NATS_ACCOUNT_SIGNING_SEED', {
    optional: true,
    secret: true,
    pattern: /^SA[A-Z2-7]{56}$/,
    description:
      'Seed of the NATS account signing key that signs plugin users (production mode); unset: development mode, no NATS credentials are issued',
  }),
  natsAccountPublicKey: env.string('VIVIFIED_NATS_ACCOUNT_PUBLIC_KEY', {
    optional: true,
    pattern: /^A[A-Z2-7]{55}$/,
    description: 'Public key of the NATS account plugins live in (required with the signing seed)',
  }),
  natsUserJwtTtlSeconds: env.int('VIVIFIED_NATS_USER_JWT_TTL_SECONDS', {
    default: 86_400,
    min: 60,
    max: 2_592_000,
    description: 'Lifetime of a plugin NATS user JWT; renewed only while the plugin is active',
  }),
  natsOperatorSigningSeed: env.string('VIVIFIED_NATS_OPERATOR_SIGNING_SEED', {
    optional: true,
    secret: true,
    pattern: /^SO[A-Z2-7]{56}$/,
    description:
      'Seed of an operator signing key, to re-sign the account JWT with revoked plugin users; unset: revocation waits for the user JWT to expire',
  }),
  natsSystemCredsFile: env.string('VIVIFIED_NATS_SYSTEM_CREDS', {
    optional: true,
    secret: true,
    description:
      'Path of a system-account creds file the registry pushes account JWT updates with (revocations)',
  }),
} as const;

/** The parsed NATS credentials config of the registry. */
export type NatsCredentialsConfig = BaseConfig & ConfigOf<typeof natsCredentialsConfigSchema>;
