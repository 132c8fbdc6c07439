import ipaddr from 'ipaddr.js';

/** A parsed CIDR range. */
export type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

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

/** Cloud metadata endpoints: never reached, whatever a plugin network range says. */
const METADATA: readonly Range[] = ['169.254.169.254/32', 'fd00:ec2::254/128', '100.100.100.200/32'].map(
  (cidr) => ipaddr.parseCIDR(cidr),
);

/**
 * Ranges (ipaddr.js names) a plugin network can never open: loopback, link-local (metadata lives there),
 * unspecified, multicast and broadcast. Only the test allowance lets them through.
 */
const NEVER_PLUGIN_RANGES = new Set(['loopback', 'linkLocal', 'unspecified', 'multicast', 'broadcast']);

/** Shortest prefix a plugin network range may have: wider is a configuration mistake (`0.0.0.0/0`). */
export const MIN_PLUGIN_PREFIX = { ipv4: 8, ipv6: 7 } as const;

/** Name of the test allowance in messages; every service reads the same variable. */
export const TEST_ALLOW_RANGES_ENV = 'VIVIFIED_PROXY_TEST_ALLOW_RANGES';

/** Name of the plugin network setting. */
export const PLUGIN_NETWORK_RANGES_ENV = 'VIVIFIED_PLUGIN_NETWORK_RANGES';

/** Parses the test-only allowance (`VIVIFIED_PROXY_TEST_ALLOW_RANGES`): comma-separated CIDR ranges. */
export function parseRanges(value: string | undefined, name = TEST_ALLOW_RANGES_ENV): Range[] {
  if (value === undefined || value.trim() === '') {
    return [];
  }

  return value.split(',').map((part) => {
    const cidr = part.trim();
    try {
      return ipaddr.parseCIDR(cidr);
    } catch {
      throw new Error(`${name}: ${JSON.stringify(cidr)} is not a CIDR range`);
    }
  });
}

/**
 * The test allowance of a deployment: refused at start in production mode, so a forgotten test setting can never
 * open private ranges there.
 */
export function testAllowance(config: {
  production?: boolean | undefined;
  proxyTestAllowRanges?: string | undefined;
}): Range[] {
  const ranges = parseRanges(config.proxyTestAllowRanges);
  if (ranges.length > 0 && config.production === true) {
    throw new Error(`${TEST_ALLOW_RANGES_ENV} is for tests and refused with VIVIFIED_PRODUCTION=true`);
  }

  return ranges;
}

/**
 * Checks one plugin network range (`10.0.0.0/8`, `fd12:3456::/48`); answers why it is refused, or undefined.
 * Refused: not a CIDR, wider than /8 (IPv4) or /7 (IPv6), or based in loopback, link-local, unspecified,
 * multicast or broadcast space (those stay closed to plugins; tests use the test allowance).
 */
export function pluginRangeProblem(cidr: string): string | undefined {
  let range: Range;
  try {
    range = ipaddr.parseCIDR(cidr);
  } catch {
    return `${JSON.stringify(cidr)} is not a CIDR range`;
  }
  const [base, prefix] = range;
  if (prefix < MIN_PLUGIN_PREFIX[base.kind()]) {
    return `${JSON.stringify(cidr)} is wider than /${MIN_PLUGIN_PREFIX[base.kind()]}: list the plugins' networks, not the internet`;
  }
  const judged = base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress();
  if (judged) {
    return `${JSON.stringify(cidr)}: write IPv4 ranges as IPv4`;
  }
  if (NEVER_PLUGIN_RANGES.has(base.range())) {
    return `${JSON.stringify(cidr)} is ${base.range()} space, which plugins may never use`;
  }

  return undefined;
}

/** Parses `VIVIFIED_PLUGIN_NETWORK_RANGES` into canonical CIDR strings; throws on the first bad range. */
export function parsePluginNetworkRanges(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') {
    return [];
  }

  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((cidr) => {
      const problem = pluginRangeProblem(cidr);
      if (problem !== undefined) {
        throw new Error(`${PLUGIN_NETWORK_RANGES_ENV}: ${problem}`);
      }
      const [base, prefix] = ipaddr.parseCIDR(cidr);

      return `${base.toString()}/${prefix}`;
    });
}

function inRange(address: ipaddr.IPv4 | ipaddr.IPv6, range: Range): boolean {
  return address.kind() === range[0].kind() && address.match(range);
}

/** What an {@link AddressPolicy} lets through besides public unicast. */
export interface AddressPolicyOptions {
  /** TESTS ONLY: ranges allowed whatever they are (loopback, link-local...). */
  testAllowance?: readonly Range[];
  /**
   * Core→plugin traffic only (webhooks, operator-lane HTTP targets, health polls): private ranges plugins live in
   * (`VIVIFIED_PLUGIN_NETWORK_RANGES`). Metadata, loopback, link-local and the like stay refused. Never for the
   * proxy lane.
   */
  pluginNetworks?: readonly string[];
}

/**
 * Decides which resolved addresses the core may connect to: public unicast only. Private, loopback, link-local
 * (metadata at 169.254.169.254), carrier-grade NAT, unique-local (fd00:ec2::254), multicast, broadcast,
 * unspecified, reserved, documentation and translation ranges (IPv4-mapped, NAT64, 6to4, Teredo) are refused;
 * IPv4-mapped IPv6 is judged as the IPv4 it maps. The test allowance lets listed ranges through; plugin networks
 * let listed ranges through except metadata, loopback, link-local, unspecified, multicast and broadcast.
 */
export class AddressPolicy {
  private readonly allowed: readonly Range[];
  private readonly pluginNetworks: readonly Range[];

  /** @param options the test allowance (an array, as the proxy lane passes it) or both allowances */
  constructor(options: readonly Range[] | AddressPolicyOptions = []) {
    const given: AddressPolicyOptions = Array.isArray(options)
      ? { testAllowance: options as readonly Range[] }
      : (options as AddressPolicyOptions);
    this.allowed = given.testAllowance ?? [];
    this.pluginNetworks = (given.pluginNetworks ?? []).map((cidr) => {
      const problem = pluginRangeProblem(cidr);
      if (problem !== undefined) {
        throw new Error(`${PLUGIN_NETWORK_RANGES_ENV}: ${problem}`);
      }

      return ipaddr.parseCIDR(cidr);
    });
  }

  /** Why an address is refused, or undefined when the core may connect to it. */
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
    if (
      !NEVER_PLUGIN_RANGES.has(range) &&
      !METADATA.some((metadata) => inRange(address, metadata)) &&
      this.pluginNetworks.some((network) => inRange(address, network))
    ) {
      return undefined;
    }
    if (range !== 'unicast') {
      return `address_${range.replace(/[^a-zA-Z0-9]/g, '_')}`;
    }

    return EXTRA_BLOCKED.some((blocked) => inRange(address, blocked)) ? 'address_reserved' : undefined;
  }
}
