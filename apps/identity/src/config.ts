import type { BaseConfig, ConfigOf } from '@vivified/service-kit';
import { env } from '@vivified/service-kit';

/** Identity's own config fields, parsed with the common ones at start. */
export const identityConfigSchema = {
  adminUsername: env.string('VIVIFIED_ADMIN_USERNAME', {
    default: 'admin',
    pattern: /^[a-z0-9][a-z0-9._-]{2,63}$/,
    description: 'Username of the first admin, created on the first start',
  }),
  adminPassword: env.string('VIVIFIED_ADMIN_PASSWORD', {
    optional: true,
    secret: true,
    description: 'Password of the first admin; without it a one-time password is printed once',
  }),
  webauthnRpId: env.string('VIVIFIED_WEBAUTHN_RP_ID', {
    default: 'localhost',
    description: 'WebAuthn relying-party id (the console host name)',
  }),
  webauthnRpName: env.string('VIVIFIED_WEBAUTHN_RP_NAME', {
    default: 'Vivified',
    description: 'WebAuthn relying-party name shown by authenticators',
  }),
  webauthnOrigins: env.urlList('VIVIFIED_WEBAUTHN_ORIGINS', {
    default: ['http://localhost:8080'],
    protocols: ['http:', 'https:'],
    description: 'Origins the console is served from, comma-separated',
  }),
} as const;

/** The parsed config of the identity service. */
export type IdentityConfig = BaseConfig & ConfigOf<typeof identityConfigSchema>;
