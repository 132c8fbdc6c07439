import { pluginNetworkRangesField } from '@vivified/egress';
import type { BaseConfig, ConfigOf } from '@vivified/service-kit';
import { env } from '@vivified/service-kit';

/**
 * Webhook egress (appended): where HTTP plugins may live although private, and the test allowance. Every
 * webhook address is checked by the shared policy of @vivified/egress (docs/events.md "Webhook egress").
 */
export const webhookEgressConfigSchema = {
  pluginNetworkRanges: pluginNetworkRangesField(),
  egressTestAllowRanges: env.string('VIVIFIED_PROXY_TEST_ALLOW_RANGES', {
    optional: true,
    description:
      'TESTS ONLY: comma-separated CIDR ranges webhooks may reach whatever they are, loopback included (refused in production)',
  }),
  production: env.bool('VIVIFIED_PRODUCTION', {
    default: false,
    description: 'Production mode: test-only settings (VIVIFIED_PROXY_TEST_ALLOW_RANGES) refuse to start',
  }),
  webhookMaxResponseBytes: env.int('VIVIFIED_EVENTS_WEBHOOK_MAX_RESPONSE', {
    default: 65_536,
    min: 0,
    max: 1_048_576,
    description:
      'Largest webhook reply body read (and discarded), in bytes; a larger reply fails the delivery',
  }),
} as const;

/** The event-router's own config fields, parsed with the common ones at start. */
export const eventRouterConfigSchema = {
  maxDeliveries: env.int('VIVIFIED_EVENTS_MAX_DELIVERIES', {
    default: 5,
    min: 1,
    max: 100,
    description: 'Delivery attempts of one event to one subscriber before it goes to VIVIFIED_DLQ',
  }),
  backoffMs: env.string('VIVIFIED_EVENTS_BACKOFF_MS', {
    default: '1000,5000,30000,60000',
    pattern: /^\d{1,7}(,\d{1,7}){0,19}$/,
    description: 'Delays before a failed delivery is tried again, comma-separated ms; the last repeats',
  }),
  deliveryTimeoutMs: env.int('VIVIFIED_EVENTS_DELIVERY_TIMEOUT_MS', {
    default: 5_000,
    min: 100,
    max: 60_000,
    description: "How long one delivery waits for the plugin's ack",
  }),
  ackWaitMs: env.int('VIVIFIED_EVENTS_ACK_WAIT_MS', {
    default: 60_000,
    min: 1_000,
    max: 3_600_000,
    description:
      'How long a delivery may stay unacknowledged before JetStream hands it out again (a crashed router); above the delivery timeout',
  }),
  quarantineAfter: env.int('VIVIFIED_EVENTS_QUARANTINE_AFTER', {
    default: 50,
    min: 1,
    max: 100_000,
    description: 'Consecutive failed deliveries after which a subscription is quarantined (paused, alerted)',
  }),
  defaultConcurrency: env.int('VIVIFIED_EVENTS_CONCURRENCY', {
    default: 1,
    min: 1,
    max: 10_000,
    description: 'Deliveries in flight per subscription (max ack pending); 1 keeps per-subscription order',
  }),
  webhookCaFile: env.string('VIVIFIED_EVENTS_WEBHOOK_CA_FILE', {
    optional: true,
    description: 'Extra CA certificates (PEM) trusted for webhook HTTPS, for private CAs',
  }),
  webhookResolve: env.string('VIVIFIED_EVENTS_WEBHOOK_RESOLVE', {
    optional: true,
    pattern: /^[A-Za-z0-9.-]+=[0-9.]+(,[A-Za-z0-9.-]+=[0-9.]+)*$/,
    description:
      'Fixed addresses of webhook hosts, `host=ip` comma-separated (split-horizon DNS, like curl --resolve)',
  }),
  ...webhookEgressConfigSchema,
} as const;

/** The parsed config of the event-router. */
export type EventRouterConfig = BaseConfig & ConfigOf<typeof eventRouterConfigSchema>;

/** The backoff list of the config. */
export function backoffList(config: Pick<EventRouterConfig, 'backoffMs'>): number[] {
  return config.backoffMs.split(',').map(Number);
}
