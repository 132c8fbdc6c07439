import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

import { ErrorCode, VivifiedError } from '@vivified/contracts';
import {
  AddressPolicy,
  EgressGuard,
  egressError,
  fixedLookup,
  readCapped,
  testAllowance,
} from '@vivified/egress';
import type { HostLookup } from '@vivified/egress';
import { Agent, request } from 'undici';

import type { EventRouterConfig } from '../config';

/** Prefix of the reason of a webhook refused for its address: `webhook_address_loopback`. */
export const WEBHOOK_REFUSED_PREFIX = 'webhook_';

/** One signed POST to a webhook. */
export interface WebhookPost {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * The event-router's governed egress to webhooks (docs/events.md "Webhook egress"): the host is resolved once per
 * new connection (VIVIFIED_EVENTS_WEBHOOK_RESOLVE answers first), refused unless every address is public unicast
 * or in VIVIFIED_PLUGIN_NETWORK_RANGES (metadata, loopback and link-local never, but for the test allowance), and
 * the connection is pinned to the checked address. https only, no redirects (a 3xx fails the delivery), the reply
 * read up to a cap and discarded.
 */
export class WebhookEgress {
  private readonly agent: Agent;
  private readonly guard: EgressGuard;
  private readonly maxBytes: number;

  constructor(config: EventRouterConfig, lookup?: HostLookup) {
    this.guard = new EgressGuard({
      lookup: lookup ?? fixedLookup(config.webhookResolve),
      policy: new AddressPolicy({
        testAllowance: testAllowance({
          production: config.production,
          proxyTestAllowRanges: config.egressTestAllowRanges,
        }),
        pluginNetworks: config.pluginNetworkRanges,
      }),
      reasonPrefix: WEBHOOK_REFUSED_PREFIX,
    });
    this.maxBytes = config.webhookMaxResponseBytes;
    this.agent = new Agent({
      connect: {
        // `ca` replaces Node's trusted roots: the extra CA is added to them, not put in their place
        ...(config.webhookCaFile
          ? { ca: [...rootCertificates, readFileSync(config.webhookCaFile, 'utf8')] }
          : {}),
        lookup: this.guard.connectLookup(),
        timeout: config.deliveryTimeoutMs,
      },
      headersTimeout: config.deliveryTimeoutMs,
      bodyTimeout: config.deliveryTimeoutMs,
      maxResponseSize: this.maxBytes,
    });
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }

  /** POSTs; resolves on a 2xx, throws the typed failure otherwise (address refusals: `POLICY_DENIED`). */
  async post(input: WebhookPost, timeoutMs: number): Promise<void> {
    let status: number;
    try {
      const url = new URL(input.url);
      if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') {
        throw new VivifiedError(ErrorCode.PolicyDenied, 'the webhook URL is not usable', {
          reason: 'webhook_url_invalid',
        });
      }
      // node connects to an IP literal without the lookup: its address is checked here
      this.guard.checkUrl(url);
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        body: input.body,
        headers: input.headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.statusCode;
      await readCapped(response.body, this.maxBytes);
    } catch (error) {
      throw webhookError(error);
    }
    if (status < 200 || status >= 300) {
      throw new VivifiedError(ErrorCode.Unavailable, `webhook answered ${status}`, {
        reason: status >= 300 && status < 400 ? 'webhook_redirect' : 'webhook_status',
      });
    }
  }
}

/** Whether a delivery failure is the egress policy refusing the webhook's address. */
export function isAddressRefusal(error: unknown): error is VivifiedError {
  return (
    error instanceof VivifiedError &&
    error.code === ErrorCode.PolicyDenied &&
    (error.reason?.startsWith(WEBHOOK_REFUSED_PREFIX) ?? false)
  );
}

function webhookError(error: unknown): VivifiedError {
  return egressError(error, {
    peer: 'the webhook',
    timeoutReason: 'webhook_timeout',
    unreachableReason: 'webhook_unreachable',
  });
}
