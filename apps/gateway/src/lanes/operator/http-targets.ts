import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

import { ErrorCode, isErrorEnvelope, VivifiedError } from '@vivified/contracts';
import type { EgressResolver } from '@vivified/egress';
import {
  AddressPolicy,
  EgressGuard,
  egressError,
  readCapped as readBody,
  testAllowance,
} from '@vivified/egress';
import { Agent, errors, request } from 'undici';

import type { GatewayConfig } from '../lane-edge';
import { CALLER_DEADLINE } from './target-breakers';

/** Path segment under a plugin's webhook URL that operator-lane calls are POSTed to: `<webhook>/rpc/<operation>`. */
export const RPC_PATH_SEGMENT = 'rpc';

/** Largest error body read from a target (its envelope); the rest is discarded. */
const ERROR_BODY_BYTES = 16 * 1024;

const httpCodes: Readonly<Record<number, ErrorCode>> = {
  400: ErrorCode.BadRequest,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.PolicyDenied,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  422: ErrorCode.ValidationFailed,
  429: ErrorCode.RateLimited,
};

/**
 * The URL an operator-lane call to an HTTP plugin is POSTed to: the webhook URL of its approved manifest with
 * `/rpc/<operation>` appended to its path (query and fragment dropped). `https://crm.example.org/vivified`
 * → `https://crm.example.org/vivified/rpc/get_user`. Only https, without credentials, is accepted.
 */
export function rpcUrlOf(webhookUrl: string | undefined, operation: string): URL {
  const refused = () =>
    new VivifiedError(ErrorCode.PolicyDenied, 'the target has no usable endpoint', {
      reason: 'target_endpoint_invalid',
    });
  if (webhookUrl === undefined || !URL.canParse(webhookUrl)) {
    throw refused();
  }
  const url = new URL(webhookUrl);
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.hostname === '') {
    throw refused();
  }
  url.search = '';
  url.hash = '';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${RPC_PATH_SEGMENT}/${encodeURIComponent(operation)}`;

  return url;
}

/** One HTTP attempt of an operator-lane call. */
export interface HttpTargetCall {
  url: URL;
  body: Uint8Array;
  /** The headers the target gets: call token, trace, deadline, classification. */
  headers: Record<string, string>;
  /** Epoch ms the attempt must be answered by. */
  deadline: number;
  /** Whether the deadline is the caller's (a timeout then does not count against the target). */
  callers: boolean;
}

/**
 * Sends operator-lane calls to plugins with `delivery.mode: http` (undici, one keep-alive agent). Every new
 * connection resolves the host through the lanes' resolver and is refused unless **every** address is public
 * unicast or in a plugin network (`VIVIFIED_PLUGIN_NETWORK_RANGES`; the shared {@link AddressPolicy} and its test
 * allowance, see @vivified/egress); the connection is pinned to the checked
 * address, TLS verifies the host name, redirects are not followed, and the reply body is read up to a cap.
 * 2xx answers the body; 4xx is the target's error (its envelope when it sends one); 5xx, 3xx, unreachable and
 * timeouts are `UNAVAILABLE`/`TIMEOUT`, which count against the target's breaker.
 */
export class HttpTargets {
  private readonly agent: Agent;
  private readonly guard: EgressGuard;
  private readonly maxBytes: number;

  constructor(resolver: EgressResolver, config: GatewayConfig, maxPayload: number | undefined) {
    this.guard = new EgressGuard({
      lookup: (host) => resolver.resolve(host),
      policy: new AddressPolicy({
        testAllowance: testAllowance(config),
        pluginNetworks: config.pluginNetworkRanges,
      }),
      reasonPrefix: 'target_',
    });
    this.maxBytes = Math.min(config.laneHttpMaxBodyBytes, maxPayload ?? Number.MAX_SAFE_INTEGER);
    this.agent = new Agent({
      connect: {
        // `ca` replaces Node's trusted roots: the extra CA is added to them, not put in their place
        ...(config.laneHttpCaFile
          ? { ca: [...rootCertificates, readFileSync(config.laneHttpCaFile, 'utf8')] }
          : {}),
        lookup: this.guard.connectLookup(),
      },
      maxResponseSize: this.maxBytes,
    });
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }

  /** Makes one attempt; answers the reply body or throws the typed error. */
  async send(call: HttpTargetCall): Promise<Uint8Array> {
    const timeoutMs = Math.max(1, call.deadline - Date.now());
    let response;
    try {
      // node connects to an IP literal without the lookup: its address is checked here
      this.guard.checkUrl(call.url);
      response = await request(call.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { ...call.headers, 'content-type': 'application/json', accept: 'application/json' },
        body: call.body,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      throw attemptError(error, call.callers);
    }
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      try {
        return await readCapped(response.body, this.maxBytes);
      } catch (error) {
        throw attemptError(error, call.callers);
      }
    }
    const body = await readCapped(response.body, ERROR_BODY_BYTES).catch(() => undefined);
    if (status >= 400 && status < 500) {
      throw targetError(status, body);
    }

    throw new VivifiedError(ErrorCode.Unavailable, `the target answered ${status}`, {
      reason: status >= 300 && status < 400 ? 'target_redirect' : `target_status_${status}`,
    });
  }
}

/** Reads a body up to `maxBytes`; more is `PAYLOAD_TOO_LARGE`. */
async function readCapped(body: AsyncIterable<unknown> & { destroy(): unknown }, maxBytes: number) {
  try {
    return new Uint8Array(await readBody(body, maxBytes));
  } catch (error) {
    throw error instanceof VivifiedError ? tooLarge() : error;
  }
}

function tooLarge(): VivifiedError {
  return new VivifiedError(ErrorCode.PayloadTooLarge, 'the target’s reply is too large', {
    reason: 'response_too_large',
  });
}

/** A 4xx of the target: its own error envelope when it sent one with a 4xx code, else the status's code. */
function targetError(status: number, body: Uint8Array | undefined): VivifiedError {
  let envelope: unknown;
  try {
    envelope = body && body.length > 0 ? JSON.parse(Buffer.from(body).toString('utf8')) : undefined;
  } catch {
    envelope = undefined;
  }
  if (isErrorEnvelope(envelope)) {
    const error = VivifiedError.fromEnvelope(envelope);
    if (error.status >= 400 && error.status < 500) {
      return error;
    }
  }

  return new VivifiedError(httpCodes[status] ?? ErrorCode.BadRequest, `the target answered ${status}`, {
    reason: `target_status_${status}`,
  });
}

/** The typed error of a failed attempt (connection, timeout, size, address refusal). */
function attemptError(error: unknown, callers: boolean): VivifiedError {
  if (error instanceof errors.ResponseExceededMaxSizeError) {
    return tooLarge();
  }

  return egressError(error, {
    peer: 'the target',
    ...(callers ? { timeoutReason: CALLER_DEADLINE } : {}),
    unreachableReason: 'target_unreachable',
  });
}
