import { createAccount } from '@nats-io/nkeys';
import { describe, expect, it } from 'vitest';

import { pluginUserKey } from './plugin-user-key';

const seed = (): string => new TextDecoder().decode(createAccount().getSeed());

describe(pluginUserKey.name, () => {
  it('derives one stable user key per plugin and account signing key', () => {
    const accountSeed = seed();

    const first = pluginUserKey(accountSeed, 'acme-crm');
    const again = pluginUserKey(accountSeed, 'acme-crm');

    expect(first.getPublicKey()).toMatch(/^U[A-Z2-7]{55}$/);
    expect(new TextDecoder().decode(first.getSeed())).toMatch(/^SU/);
    expect(again.getPublicKey()).toBe(first.getPublicKey());
    expect(pluginUserKey(accountSeed, 'acme-erp').getPublicKey()).not.toBe(first.getPublicKey());
    expect(pluginUserKey(seed(), 'acme-crm').getPublicKey()).not.toBe(first.getPublicKey());
  });

  it('signs what its public key verifies', () => {
    const key = pluginUserKey(seed(), 'acme-crm');
    const nonce = new TextEncoder().encode('nonce');

    expect(key.verify(nonce, key.sign(nonce))).toBe(true);
  });
});
