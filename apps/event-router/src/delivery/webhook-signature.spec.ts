import { createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { signWebhook, verifyWebhook } from './webhook-signature';

describe('webhook signature', () => {
  const secret = 'a-secret-of-the-plugin';
  const body = '{"eventId":"evt-12345678","payload":{"n":1}}';

  it('is v1= hex HMAC-SHA256 over "<timestamp>.<body>"', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');

    expect(signWebhook(secret, 1_700_000_000, body)).toBe(`v1=${expected}`);
  });

  it('verifies the signature it makes and nothing else', () => {
    const now = 1_700_000_000;
    const signature = signWebhook(secret, now, body);

    expect(verifyWebhook(secret, String(now), body, signature, { nowSeconds: now })).toBe(true);
    expect(verifyWebhook(secret, String(now), `${body} `, signature, { nowSeconds: now })).toBe(false);
    expect(verifyWebhook('other', String(now), body, signature, { nowSeconds: now })).toBe(false);
    expect(verifyWebhook(secret, String(now + 1), body, signature, { nowSeconds: now })).toBe(false);
    expect(verifyWebhook(secret, undefined, body, signature, { nowSeconds: now })).toBe(false);
    expect(verifyWebhook(secret, String(now), body, undefined, { nowSeconds: now })).toBe(false);
  });

  it('refuses a timestamp outside the tolerance (a replay)', () => {
    const then = 1_700_000_000;
    const signature = signWebhook(secret, then, body);

    expect(verifyWebhook(secret, String(then), body, signature, { nowSeconds: then + 301 })).toBe(false);
    expect(verifyWebhook(secret, String(then), body, signature, { nowSeconds: then + 299 })).toBe(true);
  });
});
