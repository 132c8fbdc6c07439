import type { LookupAddress } from 'node:dns';

import { Injectable } from '@nestjs/common';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { egressError } from '@vivified/egress';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';

/** The resolver lives in @vivified/egress (shared with the event-router and registry); re-exported for the lanes. */
export { EgressResolver } from '@vivified/egress';
export type { HostLookup } from '@vivified/egress';

/** One outbound request, its address already resolved and checked. */
export interface EgressRequest {
  url: URL;
  /** The address the connection is pinned to. */
  address: string;
  family: 4 | 6;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  maxBytes: number;
}

/** The upstream answer, its body read up to the cap. */
export interface EgressResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Makes one HTTP(S) request with undici on a connection pinned to the address the lane checked: the agent's
 * `lookup` answers that address whatever the name, so a DNS answer that changes between check and connect
 * (rebinding) is never used; TLS still verifies the certificate for the host name (SNI = the name). No
 * redirects are followed here, no connection is reused, and the body is read up to `maxBytes`.
 */
@Injectable()
export class EgressClient {
  async send(input: EgressRequest): Promise<EgressResponse> {
    const pinned = (_host: string, options: { all?: boolean } | undefined, callback: LookupCallback) => {
      if (options?.all) {
        callback(null, [{ address: input.address, family: input.family }]);
      } else {
        callback(null, input.address, input.family);
      }
    };
    const agent = new Agent({
      connect: { lookup: pinned, timeout: input.timeoutMs },
      pipelining: 0,
      keepAliveTimeout: 1,
      maxResponseSize: input.maxBytes,
    });
    const signal = AbortSignal.timeout(input.timeoutMs);
    try {
      const response = await request(input.url, {
        method: input.method,
        headers: input.headers,
        ...(input.body === undefined ? {} : { body: input.body }),
        dispatcher: agent,
        signal,
        headersTimeout: input.timeoutMs,
        bodyTimeout: input.timeoutMs,
      });
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > input.maxBytes) {
        response.body.destroy();
        throw new VivifiedError(ErrorCode.PayloadTooLarge, 'upstream response too large', {
          reason: 'response_too_large',
        });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > input.maxBytes) {
          response.body.destroy();
          throw new VivifiedError(ErrorCode.PayloadTooLarge, 'upstream response too large', {
            reason: 'response_too_large',
          });
        }
        chunks.push(chunk as Buffer);
      }

      return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) };
    } catch (error) {
      throw upstreamError(error);
    } finally {
      agent.destroy().catch(() => undefined);
    }
  }
}

function upstreamError(error: unknown): VivifiedError {
  return egressError(error, {
    peer: 'upstream',
    timeoutReason: 'upstream_timeout',
    unreachableReason: 'upstream_failed',
  });
}
