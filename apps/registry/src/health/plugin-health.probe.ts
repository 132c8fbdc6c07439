import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { HostLookup } from '@vivified/egress';
import { AddressPolicy, EgressGuard, egressError, readCapped, testAllowance } from '@vivified/egress';
import { Agent, request } from 'undici';

import type { RegistryServiceConfig } from '../registry.config';

/** Largest health answer read; a longer one fails the poll. */
const MAX_BODY_BYTES = 16 * 1024;

/** What a poll found: the plugin answered (ok or degraded), or why it did not. */
export type ProbeResult = { ok: true; status: 'ok' | 'degraded' } | { ok: false; error: VivifiedError };

/**
 * The URL an HTTP health check polls: the webhook's origin with `healthCheck.path` (`https://crm.example.org` +
 * `/health`). Undefined when the webhook is not an https URL or the path would leave the webhook's origin.
 */
export function healthUrlOf(webhookUrl: string | undefined, path: string | undefined): URL | undefined {
  if (webhookUrl === undefined || path === undefined || !URL.canParse(webhookUrl) || !path.startsWith('/')) {
    return undefined;
  }
  const webhook = new URL(webhookUrl);
  if (webhook.protocol !== 'https:' || webhook.username !== '' || webhook.password !== '') {
    return undefined;
  }
  const candidate = `${webhook.origin}${path}`;
  if (!URL.canParse(candidate)) {
    return undefined;
  }
  const url = new URL(candidate);
  url.hash = '';

  return url.origin === webhook.origin ? url : undefined;
}

/**
 * GETs a plugin's health URL through the shared egress guard (resolve once, refuse addresses outside public
 * unicast and VIVIFIED_PLUGIN_NETWORK_RANGES, pin the connection), no redirects, answer capped. A 2xx is healthy
 * (`{"status":"degraded"}` in a JSON answer is degraded); anything else, a timeout or a refused address fails.
 */
export class HealthProbe {
  private readonly agent: Agent;
  private readonly guard: EgressGuard;

  constructor(config: RegistryServiceConfig, lookup: HostLookup) {
    this.guard = new EgressGuard({
      lookup,
      policy: new AddressPolicy({
        testAllowance: testAllowance({
          production: config.production,
          proxyTestAllowRanges: config.egressTestAllowRanges,
        }),
        pluginNetworks: config.pluginNetworkRanges,
      }),
      reasonPrefix: 'health_',
    });
    this.agent = new Agent({
      connect: {
        // `ca` replaces Node's trusted roots: the extra CA is added to them, not put in their place
        ...(config.healthPollCaFile
          ? { ca: [...rootCertificates, readFileSync(config.healthPollCaFile, 'utf8')] }
          : {}),
        lookup: this.guard.connectLookup(),
        timeout: config.healthPollTimeoutMs,
      },
      maxResponseSize: MAX_BODY_BYTES,
    });
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }

  async probe(url: URL, timeoutMs: number): Promise<ProbeResult> {
    try {
      // node connects to an IP literal without the lookup: its address is checked here
      this.guard.checkUrl(url);
      const response = await request(url, {
        method: 'GET',
        dispatcher: this.agent,
        headers: { accept: 'application/json', 'user-agent': 'vivified-registry-health' },
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const body = await readCapped(response.body, MAX_BODY_BYTES);
      const status = response.statusCode;
      if (status < 200 || status >= 300) {
        return {
          ok: false,
          error: new VivifiedError(ErrorCode.Unavailable, `the health check answered ${status}`, {
            reason: status >= 300 && status < 400 ? 'health_redirect' : `health_status_${status}`,
          }),
        };
      }

      return { ok: true, status: reportedStatus(response.headers['content-type'], body) };
    } catch (error) {
      return { ok: false, error: probeError(error) };
    }
  }
}

/** `degraded` when a JSON answer says `{"status":"degraded"}`, else `ok`. */
function reportedStatus(contentType: string | string[] | undefined, body: Buffer): 'ok' | 'degraded' {
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if (type === undefined || !type.toLowerCase().includes('json') || body.length === 0) {
    return 'ok';
  }
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;

    return typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as { status?: unknown }).status === 'degraded'
      ? 'degraded'
      : 'ok';
  } catch {
    return 'ok';
  }
}

function probeError(error: unknown): VivifiedError {
  return egressError(error, {
    peer: 'the health check',
    timeoutReason: 'health_timeout',
    unreachableReason: 'health_unreachable',
  });
}
