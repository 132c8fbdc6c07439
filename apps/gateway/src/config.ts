import { pluginNetworkRangesField } from '@vivified/egress';
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
  production: env.bool('VIVIFIED_PRODUCTION', {
    default: false,
    description: 'Production mode: test-only settings (VIVIFIED_PROXY_TEST_ALLOW_RANGES) refuse to start',
  }),
  laneTimeoutMs: env.int('VIVIFIED_LANE_TIMEOUT_MS', {
    default: 5_000,
    min: 100,
    max: 300_000,
    description: 'Operator-lane timeout of an operation whose manifest sets no timeoutMs, in milliseconds',
  }),
  laneBreakerConsecutive: env.int('VIVIFIED_LANE_BREAKER_CONSECUTIVE', {
    default: 5,
    min: 1,
    description: 'Consecutive failed calls to a target that open its circuit breaker',
  }),
  laneBreakerFailureRate: env.int('VIVIFIED_LANE_BREAKER_FAILURE_RATE', {
    default: 50,
    min: 1,
    max: 100,
    description: 'Failure rate (percent) over the breaker window that opens a target’s breaker',
  }),
  laneBreakerWindowMs: env.int('VIVIFIED_LANE_BREAKER_WINDOW_MS', {
    default: 30_000,
    min: 1_000,
    description: 'Sampling window of the failure rate, in milliseconds',
  }),
  laneBreakerMinimumRps: env.int('VIVIFIED_LANE_BREAKER_MIN_RPS', {
    default: 5,
    min: 1,
    description: 'Calls per second to a target below which the failure rate does not open its breaker',
  }),
  laneBreakerHalfOpenMs: env.int('VIVIFIED_LANE_BREAKER_HALF_OPEN_MS', {
    default: 10_000,
    min: 100,
    description: 'How long an open breaker refuses calls before it lets one probe through, in milliseconds',
  }),
  laneBulkhead: env.int('VIVIFIED_LANE_BULKHEAD', {
    default: 64,
    min: 1,
    description: 'Operator-lane calls in flight per target; more are refused with RATE_LIMITED',
  }),
  laneRetries: env.int('VIVIFIED_LANE_RETRIES', {
    default: 2,
    min: 0,
    max: 5,
    description: 'Retries of an idempotent operation after a timeout or unavailable target',
  }),
  proxyTimeoutMs: env.int('VIVIFIED_PROXY_TIMEOUT_MS', {
    default: 10_000,
    min: 100,
    max: 120_000,
    description: 'Proxy-lane timeout of one upstream request (connect to last byte), in milliseconds',
  }),
  proxyMaxBodyBytes: env.int('VIVIFIED_PROXY_MAX_BODY', {
    default: 524_288,
    min: 1_024,
    description: 'Largest proxy request or response body, in bytes (base64 replies must fit a NATS message)',
  }),
  proxyMaxRedirects: env.int('VIVIFIED_PROXY_MAX_REDIRECTS', {
    default: 3,
    min: 0,
    max: 10,
    description: 'Redirects a proxy request that asks to follow them may take (each hop checked again)',
  }),
  proxyRatePerMinute: env.int('VIVIFIED_PROXY_RATE', {
    default: 600,
    min: 1,
    description: 'Proxy requests per minute per plugin and domain (token bucket refill)',
  }),
  proxyBurst: env.int('VIVIFIED_PROXY_BURST', {
    default: 20,
    min: 1,
    description: 'Proxy requests a plugin may make to one domain at once before the rate applies',
  }),
  proxyHttpAllowed: env.string('VIVIFIED_PROXY_HTTP_ALLOWED', {
    optional: true,
    pattern: /^[a-z][a-z0-9-]{2,62}=[a-z0-9*.-]+(?:,[a-z][a-z0-9-]{2,62}=[a-z0-9*.-]+)*$/,
    description: 'Plain-http approvals, comma-separated plugin=domain pairs; https is required elsewhere',
  }),
  proxyTestAllowRanges: env.string('VIVIFIED_PROXY_TEST_ALLOW_RANGES', {
    optional: true,
    description:
      'TESTS ONLY: comma-separated CIDR ranges the proxy may reach although private (refused in production)',
  }),
  laneHttpCaFile: env.string('VIVIFIED_LANE_HTTP_CA_FILE', {
    optional: true,
    description:
      'Extra CA certificates (PEM) trusted for operator-lane calls to HTTP plugins, for private CAs',
  }),
  laneHttpMaxBodyBytes: env.int('VIVIFIED_LANE_HTTP_MAX_BODY', {
    default: 1_048_576,
    min: 1_024,
    description:
      'Largest reply body of an HTTP plugin on the operator lane, in bytes (and at most a NATS message)',
  }),
  pluginNetworkRanges: pluginNetworkRangesField(),
} as const;

/** The parsed config of the gateway. */
export type GatewayConfig = BaseConfig & ConfigOf<typeof gatewayConfigSchema>;
