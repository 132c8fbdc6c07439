import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { rpcUrlOf } from './http-targets';

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
