import { describe, expect, it } from 'vitest';

import { AddressPolicy, parsePluginNetworkRanges, parseRanges, pluginRangeProblem } from './address-policy';
import { pluginNetworkRangesField } from './config';

describe(parsePluginNetworkRanges.name, () => {
  it('is empty by default and canonicalises the ranges', () => {
    expect(parsePluginNetworkRanges(undefined)).toEqual([]);
    expect(parsePluginNetworkRanges('  ')).toEqual([]);
    expect(parsePluginNetworkRanges('10.0.0.0/8, 172.18.0.0/16,fd12:3456:0:0::/64,')).toEqual([
      '10.0.0.0/8',
      '172.18.0.0/16',
      'fd12:3456::/64',
    ]);
  });

  it.each([
    ['0.0.0.0/0', /wider than \/8/],
    ['10.0.0.0/7', /wider than \/8/],
    ['::/0', /wider than \/7/],
    ['127.0.0.0/8', /loopback/],
    ['::1/128', /loopback/],
    ['169.254.0.0/16', /linkLocal/],
    ['fe80::/10', /linkLocal/],
    ['239.0.0.0/8', /multicast/],
    ['255.255.255.255/32', /broadcast/],
    ['::ffff:10.0.0.0/104', /write IPv4 ranges as IPv4/],
    ['10.0.0.0', /not a CIDR range/],
    ['10.0.0.0/33', /not a CIDR range/],
    ['compose', /not a CIDR range/],
  ])('refuses %s', (cidr, message) => {
    expect(pluginRangeProblem(cidr)).toMatch(message);
    expect(() => parsePluginNetworkRanges(`10.0.0.0/8,${cidr}`)).toThrow(/^VIVIFIED_PLUGIN_NETWORK_RANGES: /);
  });

  it('fails the config at parse, not at the first request', () => {
    const field = pluginNetworkRangesField();

    expect(field.env).toBe('VIVIFIED_PLUGIN_NETWORK_RANGES');
    expect(field.read(undefined)).toEqual({ ok: true, value: [] });
    expect(field.read('172.20.0.0/16')).toEqual({ ok: true, value: ['172.20.0.0/16'] });
    const refused = field.read('0.0.0.0/0');
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.message).toMatch(/wider than/);
  });
});

describe('AddressPolicy with plugin networks', () => {
  const sut = new AddressPolicy({
    pluginNetworks: ['10.0.0.0/8', '172.18.0.0/16', 'fd00::/8', '100.64.0.0/10'],
  });

  it.each(['10.1.2.3', '172.18.0.7', 'fd12::5', '::ffff:10.0.0.9', '8.8.8.8'])(
    'lets %s through',
    (address) => {
      expect(sut.problem(address)).toBeUndefined();
    },
  );

  it.each([
    ['172.19.0.1', 'address_private'],
    ['192.168.1.1', 'address_private'],
    ['127.0.0.1', 'address_loopback'],
    ['::ffff:127.0.0.1', 'address_loopback'],
    ['169.254.169.254', 'address_linkLocal'],
    ['::ffff:169.254.169.254', 'address_linkLocal'],
    ['fd00:ec2::254', 'address_uniqueLocal'],
    ['100.100.100.200', 'address_carrierGradeNat'],
    ['fe80::1', 'address_linkLocal'],
    ['0.0.0.0', 'address_unspecified'],
  ])('still refuses %s (%s)', (address, reason) => {
    expect(sut.problem(address)).toBe(reason);
  });

  it('leaves the proxy lane (no plugin networks) as it was', () => {
    expect(new AddressPolicy().problem('10.1.2.3')).toBe('address_private');
    expect(new AddressPolicy(parseRanges('10.0.0.0/8')).problem('10.1.2.3')).toBeUndefined();
  });

  it('lets the test allowance through loopback and metadata, plugin networks or not', () => {
    const testing = new AddressPolicy({
      testAllowance: parseRanges('127.0.0.0/8,169.254.169.254/32'),
      pluginNetworks: ['10.0.0.0/8'],
    });

    expect(testing.problem('127.0.0.1')).toBeUndefined();
    expect(testing.problem('169.254.169.254')).toBeUndefined();
    expect(testing.problem('10.0.0.1')).toBeUndefined();
    expect(testing.problem('192.168.0.1')).toBe('address_private');
  });

  it('refuses a bad plugin network given directly', () => {
    expect(() => new AddressPolicy({ pluginNetworks: ['0.0.0.0/0'] })).toThrow(/wider than/);
  });
});
