import { Readable } from 'node:stream';

import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { AddressPolicy } from './address-policy';
import { EgressGuard, readCapped, typedCause } from './egress-guard';
import { fixedLookup } from './resolver';

const answers: Record<string, Array<{ address: string; family: number }>> = {
  'public.example.org': [{ address: '93.184.216.34', family: 4 }],
  'plugin.example.org': [{ address: '10.0.0.5', family: 4 }],
  'mixed.example.org': [
    { address: '93.184.216.34', family: 4 },
    { address: '169.254.169.254', family: 4 },
  ],
  'empty.example.org': [],
};

const guard = new EgressGuard({
  lookup: (host) => {
    const found = answers[host];

    return found === undefined ? Promise.reject(new Error('ENOTFOUND')) : Promise.resolve(found);
  },
  policy: new AddressPolicy({ pluginNetworks: ['10.0.0.0/8'] }),
  reasonPrefix: 'webhook_',
});

async function refusal(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

describe(EgressGuard.name, () => {
  it('answers the checked address to pin, public or in a plugin network', async () => {
    await expect(guard.resolve('public.example.org')).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
    await expect(guard.resolve('plugin.example.org')).resolves.toEqual({ address: '10.0.0.5', family: 4 });
    await expect(guard.resolve('[2606:4700:4700::1111]')).resolves.toEqual({
      address: '2606:4700:4700::1111',
      family: 6,
    });
  });

  it('refuses a host when any of its addresses is refused', async () => {
    const error = await refusal(guard.resolve('mixed.example.org'));

    expect(error.code).toBe(ErrorCode.PolicyDenied);
    expect(error.reason).toBe('webhook_address_linkLocal');
  });

  it('answers dns_failed for a host that does not resolve, or resolves to nothing', async () => {
    expect((await refusal(guard.resolve('nowhere.example.org'))).reason).toBe('dns_failed');
    expect((await refusal(guard.resolve('empty.example.org'))).reason).toBe('dns_failed');
  });

  it('checks IP literals in URLs, which node connects to without a lookup', () => {
    expect(() => guard.checkUrl(new URL('https://169.254.169.254/latest'))).toThrow(VivifiedError);
    expect(() => guard.checkUrl(new URL('https://[::1]:8443/hook'))).toThrow(/may not be reached/);
    expect(() => guard.checkUrl(new URL('https://10.1.1.1/hook'))).not.toThrow();
    expect(() => guard.checkUrl(new URL('https://public.example.org/hook'))).not.toThrow();
  });

  it('gives undici only the checked address, in both lookup forms', async () => {
    const lookup = guard.connectLookup();
    const single = await new Promise((resolve) =>
      lookup('plugin.example.org', {}, (error, address, family) => resolve({ error, address, family })),
    );
    const all = await new Promise((resolve) =>
      lookup('plugin.example.org', { all: true }, (error, address) => resolve({ error, address })),
    );
    const refused = await new Promise<Error | null>((resolve) =>
      lookup('mixed.example.org', { all: true }, (error) => resolve(error)),
    );

    expect(single).toEqual({ error: null, address: '10.0.0.5', family: 4 });
    expect(all).toEqual({ error: null, address: [{ address: '10.0.0.5', family: 4 }] });
    expect(typedCause(new Error('connect failed', { cause: refused }))?.reason).toBe(
      'webhook_address_linkLocal',
    );
  });
});

describe(fixedLookup.name, () => {
  it('answers the fixed address first and falls back for the rest', async () => {
    const lookup = fixedLookup('Hooks.Example.org=10.0.0.7', () =>
      Promise.resolve([{ address: '93.184.216.34', family: 4 }]),
    );

    await expect(lookup('hooks.example.org')).resolves.toEqual([{ address: '10.0.0.7', family: 4 }]);
    await expect(lookup('other.example.org')).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});

describe(readCapped.name, () => {
  const bodyOf = (...chunks: string[]) => Readable.from(chunks.map((chunk) => Buffer.from(chunk)));

  it('reads up to the cap and refuses more', async () => {
    expect((await readCapped(bodyOf('ab', 'cd'), 4)).toString()).toBe('abcd');
    const big = bodyOf('abc', 'def');
    const error = await refusal(readCapped(big, 4));

    expect(error.reason).toBe('response_too_large');
    expect(big.destroyed).toBe(true);
  });
});
