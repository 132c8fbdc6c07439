import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';

import { Injectable } from '@nestjs/common';

/** Resolves a host name to every address it has. */
export type HostLookup = (host: string) => Promise<LookupAddress[]>;

/** The system resolver: every address, in the order the resolver gives them. */
export const systemLookup: HostLookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * Where outbound traffic resolves names. The system resolver by default; tests inject one that answers what they
 * need (a public-looking name that resolves to a private address) without touching the hosts file or DNS.
 */
@Injectable()
export class EgressResolver {
  private lookupHost: HostLookup = systemLookup;

  /** Every address of a host, resolved once per connection. */
  resolve(host: string): Promise<LookupAddress[]> {
    return this.lookupHost(host);
  }

  /** Replaces the resolver (tests). */
  useLookup(lookup: HostLookup | undefined): void {
    this.lookupHost = lookup ?? systemLookup;
  }
}

/**
 * A lookup with fixed answers for some hosts (`host=ip` pairs, like curl --resolve) and the system resolver for
 * the rest. The fixed answers are still checked by the address policy like any other.
 */
export function fixedLookup(pairs: string | undefined, fallback: HostLookup = systemLookup): HostLookup {
  const table = new Map(
    (pairs ?? '')
      .split(',')
      .filter((pair) => pair.includes('='))
      .map((pair) => pair.split('=') as [string, string])
      .map(([host, ip]) => [host.trim().toLowerCase(), ip.trim()] as const),
  );

  return async (host) => {
    const address = table.get(host.toLowerCase());

    return address === undefined ? fallback(host) : [{ address, family: address.includes(':') ? 6 : 4 }];
  };
}
