import { describe, expect, it } from 'vitest';

import { AddressPolicy, parseRanges, testAllowance } from '@vivified/egress';

describe(AddressPolicy.name, () => {
  const sut = new AddressPolicy();

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111'])(
    'lets the public address %s through',
    (address) => {
      expect(sut.problem(address)).toBeUndefined();
    },
  );

  it.each([
    ['127.0.0.1', 'address_loopback'],
    ['10.1.2.3', 'address_private'],
    ['172.16.5.4', 'address_private'],
    ['192.168.0.1', 'address_private'],
    ['100.64.0.1', 'address_carrierGradeNat'],
    ['169.254.169.254', 'address_linkLocal'],
    ['0.0.0.0', 'address_unspecified'],
    ['255.255.255.255', 'address_broadcast'],
    ['224.0.0.1', 'address_multicast'],
    ['192.0.2.1', 'address_reserved'],
    ['198.18.0.1', 'address_reserved'],
    ['240.0.0.1', 'address_reserved'],
    ['::1', 'address_loopback'],
    ['::', 'address_unspecified'],
    ['fd00:ec2::254', 'address_uniqueLocal'],
    ['fc00::1', 'address_uniqueLocal'],
    ['fe80::1', 'address_linkLocal'],
    ['ff02::1', 'address_multicast'],
    ['::ffff:127.0.0.1', 'address_loopback'],
    ['::ffff:169.254.169.254', 'address_linkLocal'],
    ['64:ff9b::a00:1', 'address_rfc6052'],
    ['2002:a00:1::', 'address_6to4'],
    ['2001::1', 'address_teredo'],
    ['2001:db8::1', 'address_reserved'],
    ['not-an-ip', 'address_invalid'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(sut.problem(address)).toBe(reason);
  });

  it('lets the test allowance through, and only it', () => {
    const allowing = new AddressPolicy(parseRanges('127.0.0.0/8, ::1/128'));

    expect(allowing.problem('127.0.0.1')).toBeUndefined();
    expect(allowing.problem('::1')).toBeUndefined();
    expect(allowing.problem('::ffff:127.0.0.1')).toBeUndefined();
    expect(allowing.problem('10.0.0.1')).toBe('address_private');
    expect(() => parseRanges('10.0.0.0/99')).toThrow(/not a CIDR range/);
    expect(parseRanges(undefined)).toEqual([]);
  });
});

describe(testAllowance.name, () => {
  it('is off by default and refused in production mode', () => {
    expect(testAllowance({ production: false })).toEqual([]);
    expect(testAllowance({ production: false, proxyTestAllowRanges: '127.0.0.0/8' })).toHaveLength(1);
    expect(() => testAllowance({ production: true, proxyTestAllowRanges: '127.0.0.0/8' })).toThrow(
      /refused with VIVIFIED_PRODUCTION=true/,
    );
    expect(testAllowance({ production: true })).toEqual([]);
  });
});
