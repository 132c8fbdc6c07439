import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

import { ErrorCode, VivifiedError } from '@vivified/contracts';

import type { AddressPolicy } from './address-policy';
import type { HostLookup } from './resolver';

/** An address checked by the policy, the one a connection is pinned to. */
export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** The `connect.lookup` option of an undici Agent (node's `net.connect` lookup signature). */
export type ConnectLookup = (
  host: string,
  options: { all?: boolean } | undefined,
  callback: LookupCallback,
) => void;

/** Options of an {@link EgressGuard}. */
export interface EgressGuardOptions {
  /** Resolves names (an {@link EgressResolver}'s `resolve`, or a fixed table). */
  lookup: HostLookup;
  /** Which addresses may be reached. */
  policy: AddressPolicy;
  /** Put before the policy's reason (`target_` gives `target_address_private`). @default '' */
  reasonPrefix?: string;
}

/**
 * Resolve once, refuse, pin: a host is resolved once per new connection, refused (`POLICY_DENIED`, reason
 * `<prefix>address_<range>`) unless **every** address passes the {@link AddressPolicy}, and the connection is made
 * to the checked address, so a DNS answer that changes between check and connect (rebinding) is never used.
 * Node skips `lookup` for IP literals: {@link checkUrl} covers those before a request is made.
 */
export class EgressGuard {
  private readonly prefix: string;

  constructor(private readonly options: EgressGuardOptions) {
    this.prefix = options.reasonPrefix ?? '';
  }

  /** Resolves a host and checks every address; answers the first. */
  async resolve(host: string): Promise<CheckedAddress> {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    let resolved: LookupAddress[];
    if (isIP(bare) !== 0) {
      resolved = [{ address: bare, family: isIP(bare) }];
    } else {
      try {
        resolved = await this.options.lookup(bare);
      } catch (error) {
        throw new VivifiedError(ErrorCode.Unavailable, 'the host does not resolve', {
          reason: 'dns_failed',
          cause: error,
        });
      }
    }
    if (resolved.length === 0) {
      throw new VivifiedError(ErrorCode.Unavailable, 'the host does not resolve', { reason: 'dns_failed' });
    }
    for (const { address } of resolved) {
      this.check(address);
    }
    const first = resolved[0];

    return { address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  /** Throws unless the address passes the policy. */
  check(address: string): void {
    const problem = this.options.policy.problem(address);
    if (problem !== undefined) {
      throw new VivifiedError(ErrorCode.PolicyDenied, 'the endpoint may not be reached', {
        reason: `${this.prefix}${problem}`,
      });
    }
  }

  /** Checks a URL before it is requested: its host, when an IP literal (node connects to those without lookup). */
  checkUrl(url: URL): void {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host) !== 0) {
      this.check(host);
    }
  }

  /** The `connect.lookup` of an undici Agent: resolve, check, answer only the checked address. */
  connectLookup(): ConnectLookup {
    return (host, options, callback) =>
      void this.resolve(host).then(
        ({ address, family }) =>
          options?.all ? callback(null, [{ address, family }]) : callback(null, address, family),
        (error: unknown) => callback(error as Error, ''),
      );
  }
}

/** A typed error anywhere in the cause chain (the lookup's refusal reaches the caller wrapped by the socket). */
export function typedCause(error: unknown): VivifiedError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current instanceof VivifiedError) {
      return current;
    }
    current = current.cause;
  }

  return undefined;
}

/** Reads a body up to `maxBytes`; more destroys it and throws `PAYLOAD_TOO_LARGE` (`response_too_large`). */
export async function readCapped(
  body: AsyncIterable<unknown> & { destroy(): unknown },
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new VivifiedError(ErrorCode.PayloadTooLarge, 'the reply is too large', {
        reason: 'response_too_large',
      });
    }
    chunks.push(chunk as Buffer);
  }

  return Buffer.concat(chunks);
}
