import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { EgressResolver } from '@vivified/egress';
import { afterAll, describe, expect, it } from 'vitest';

import type { GatewayConfig } from '../lane-edge';
import { HttpTargets, rpcUrlOf } from './http-targets';

describe('rpcUrlOf', () => {
  it.each([
    ['https://crm.example.org/vivified', 'https://crm.example.org/vivified/rpc/get_user'],
    ['https://crm.example.org/vivified/', 'https://crm.example.org/vivified/rpc/get_user'],
    ['https://crm.example.org', 'https://crm.example.org/rpc/get_user'],
    ['https://crm.example.org:8443/hooks?token=x#frag', 'https://crm.example.org:8443/hooks/rpc/get_user'],
  ])('%s → %s', (webhook, expected) => {
    expect(rpcUrlOf(webhook, 'get_user').href).toBe(expected);
  });

  it.each([
    ['missing', undefined],
    ['not a URL', 'crm.example.org/hooks'],
    ['plain http', 'http://crm.example.org/hooks'],
    ['another scheme', 'ftp://crm.example.org/hooks'],
    ['credentials', 'https://user:secret@crm.example.org/hooks'],
  ])('refuses a webhook URL: %s', (_name, webhook) => {
    let thrown: unknown;
    try {
      rpcUrlOf(webhook, 'get_user');
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(VivifiedError);
    expect((thrown as VivifiedError).code).toBe(ErrorCode.PolicyDenied);
    expect((thrown as VivifiedError).reason).toBe('target_endpoint_invalid');
  });
});

describe(HttpTargets.name, () => {
  const resolver = new EgressResolver();
  resolver.useLookup((host) =>
    Promise.resolve([
      { address: host === 'meta.example.org' ? '169.254.169.254' : '192.168.1.10', family: 4 },
    ]),
  );
  const config = {
    production: true,
    pluginNetworkRanges: ['10.0.0.0/8'],
    laneHttpMaxBodyBytes: 1024,
  } as unknown as GatewayConfig;
  const targets = new HttpTargets(resolver, config, undefined);

  afterAll(() => targets.close());

  const refusal = async (url: string) => {
    const error = await targets
      .send({
        url: new URL(url),
        body: new Uint8Array(),
        headers: {},
        deadline: Date.now() + 2000,
        callers: false,
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(VivifiedError);

    return error as VivifiedError;
  };

  it.each([
    [
      'the metadata address, whatever the plugin networks',
      'https://meta.example.org/rpc/x',
      'target_address_linkLocal',
    ],
    [
      'a private address outside the plugin networks',
      'https://crm.example.org/rpc/x',
      'target_address_private',
    ],
    [
      'a loopback IP literal (connected to without a lookup)',
      'https://127.0.0.1/rpc/x',
      'target_address_loopback',
    ],
    ['a metadata IP literal', 'https://169.254.169.254/rpc/x', 'target_address_linkLocal'],
  ])('refuses %s before connecting', async (_case, url, reason) => {
    const error = await refusal(url);

    expect(error.code).toBe(ErrorCode.PolicyDenied);
    expect(error.reason).toBe(reason);
  });
});
