import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Blocks ipaddr.js counts as `unicast` that must not be reached either (documentation, relays, benchmarking). */
const EXTRA_BLOCKED: readonly Range[] = [
  '0.0.0.0/8',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/3',
  '2001:db8::/32',
  'fd00:ec2::254/128',
].map((cidr) => ipaddr.parseCIDR(cidr));

/** Parses the test-only allowance (`VIVIFIED_PROXY_TEST_ALLOW_RANGES`): comma-separated CIDR ranges. */
export function parseRanges(value: string | undefined): Range[] {
  if (value === undefined || value.trim() === '') {
    return [];
  }

  return value.split(',').map((part) => {
    const cidr = part.trim();
    try {
      return ipaddr.parseCIDR(cidr);
    } catch {
      throw new Error(`VIVIFIED_PROXY_TEST_ALLOW_RANGES: ${JSON.stringify(cidr)} is not a CIDR range`);
    }
  });
}

/**
 * The test allowance of a deployment: refused at start in production mode, so a forgotten test setting can never
 * open private ranges to the proxy there.
 */
export function testAllowance(config: {
  production: boolean;
  proxyTestAllowRanges?: string | undefined;
}): Range[] {
  const ranges = parseRanges(config.proxyTestAllowRanges);
  if (ranges.length > 0 && config.production) {
    throw new Error(
      'VIVIFIED_PROXY_TEST_ALLOW_RANGES is for tests and refused with VIVIFIED_PRODUCTION=true',
    );
  }

  return ranges;
}

function inRange(address: ipaddr.IPv4 | ipaddr.IPv6, range: Range): boolean {
  return address.kind() === range[0].kind() && address.match(range);
}

/**
 * Decides which resolved addresses the proxy may connect to: public unicast only. Private, loopback, link-local
 * (metadata at 169.254.169.254), carrier-grade NAT, unique-local (fd00:ec2::254), multicast, broadcast,
 * unspecified, reserved, documentation and translation ranges (IPv4-mapped, NAT64, 6to4, Teredo) are refused;
 * IPv4-mapped IPv6 is judged as the IPv4 it maps. The test allowance lets listed ranges through.
 */
export class AddressPolicy {
  constructor(private readonly allowed: readonly Range[] = []) {}

  /** Why an address is refused, or undefined when the proxy may connect to it. */
  problem(text: string): string | undefined {
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      address = ipaddr.parse(text);
    } catch {
      return 'address_invalid';
    }
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    if (this.allowed.some((range) => inRange(address, range))) {
      return undefined;
    }
    const range = address.range();
    if (range !== 'unicast') {
      return `address_${range.replace(/[^a-zA-Z0-9]/g, '_')}`;
    }

    return EXTRA_BLOCKED.some((blocked) => inRange(address, blocked)) ? 'address_reserved' : undefined;
  }
}
