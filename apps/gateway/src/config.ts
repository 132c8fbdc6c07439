import type { BaseConfig, ConfigOf } from '@vivified/service-kit';
import { env } from '@vivified/service-kit';

/** The gateway's own config fields, parsed with the common ones at start. */
export const gatewayConfigSchema = {
  httpPort: env.port('VIVIFIED_GATEWAY_HTTP_PORT', {
    default: 8080,
    description: 'Port of the HTTP API and console',
  }),
  corsOrigins: env.urlList('VIVIFIED_GATEWAY_CORS_ORIGINS', {
    optional: true,
    protocols: ['http:', 'https:'],
    description: 'Origins allowed by CORS, comma-separated; CORS is closed when unset',
  }),
  hsts: env.bool('VIVIFIED_GATEWAY_HSTS', {
    default: false,
    description: 'Send Strict-Transport-Security (turn on when clients reach the gateway over TLS)',
  }),
  trustProxy: env.bool('VIVIFIED_GATEWAY_TRUST_PROXY', {
    default: false,
    description: 'Take the client address from X-Forwarded-For (only behind a proxy you run)',
  }),
  rateLimitPerMinute: env.int('VIVIFIED_GATEWAY_RATE_LIMIT', {
    default: 600,
    min: 1,
    description: 'Requests per minute per principal (or per address when anonymous) and route',
  }),
  loginRateLimitPerMinute: env.int('VIVIFIED_GATEWAY_LOGIN_RATE_LIMIT', {
    default: 10,
    min: 1,
    description: 'Login and token-exchange requests per minute per address',
  }),
  bodyLimitBytes: env.int('VIVIFIED_GATEWAY_BODY_LIMIT', {
    default: 1_048_576,
    min: 1024,
    description: 'Largest request body in bytes',
  }),
} as const;

/** The parsed config of the gateway. */
export type GatewayConfig = BaseConfig & ConfigOf<typeof gatewayConfigSchema>;
