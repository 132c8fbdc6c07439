import { invalidToken } from '@vivified/auth';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { beforeEach, describe, expect, it } from 'vitest';

import type { ExchangedToken } from './api-key-tokens';
import { ApiKeyTokens } from './api-key-tokens';

const KEY = 'viv_test-key';
const LIFETIME_S = 900;

/** Identity's exchange: token-1, token-2, … in turn, or the refusal a test sets. */
class Identity {
  readonly exchanged: string[] = [];
  refusal: VivifiedError | undefined;
  private issued = 0;

  exchange(apiKey: string): Promise<ExchangedToken> {
    this.exchanged.push(apiKey);
    if (this.refusal) {
      return Promise.reject(this.refusal);
    }
    this.issued += 1;

    return Promise.resolve({ accessToken: `token-${this.issued}`, expiresIn: LIFETIME_S });
  }
}

/** A service: records the tokens it was sent and refuses those a test names. */
class Service {
  readonly sent: string[] = [];
  readonly refused = new Map<string, VivifiedError>();

  request(token: string): Promise<string> {
    this.sent.push(token);
    const refusal = this.refused.get(token);

    return refusal ? Promise.reject(refusal) : Promise.resolve(`done with ${token}`);
  }
}

const revoked = () => invalidToken('token_revoked');

describe(ApiKeyTokens.name, () => {
  let identity: Identity;
  let service: Service;
  let now: number;
  let sut: ApiKeyTokens;
  const send = () => sut.send(KEY, (token) => service.request(token));

  beforeEach(() => {
    identity = new Identity();
    service = new Service();
    now = 1_000_000;
    sut = new ApiKeyTokens({ exchange: (apiKey) => identity.exchange(apiKey), now: () => now });
  });

  it('exchanges a key once and keeps its token for half its lifetime', async () => {
    await send();
    now += (LIFETIME_S * 1000) / 2 - 1;
    await send();
    now += 1;
    await send();

    expect(identity.exchanged).toEqual([KEY, KEY]);
    expect(service.sent).toEqual(['token-1', 'token-1', 'token-2']);
  });

  it('exchanges the key again and retries once when a service refuses the cached token as revoked', async () => {
    await send();
    service.refused.set('token-1', revoked());

    await expect(send()).resolves.toBe('done with token-2');

    expect(identity.exchanged).toHaveLength(2);
    expect(service.sent).toEqual(['token-1', 'token-1', 'token-2']);
    await send();
    expect(service.sent.at(-1)).toBe('token-2');
  });

  it('retries only once: a second refusal is the caller’s', async () => {
    await send();
    service.refused.set('token-1', revoked());
    service.refused.set('token-2', revoked());

    await expect(send()).rejects.toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'token_revoked' });

    expect(service.sent).toEqual(['token-1', 'token-1', 'token-2']);
    expect(identity.exchanged).toHaveLength(2);
  });

  it('answers the refusal of the new exchange (a deactivated user) without sending the request again', async () => {
    await send();
    service.refused.set('token-1', revoked());
    identity.refusal = new VivifiedError(ErrorCode.Unauthenticated, 'user is not active', {
      reason: 'user_inactive',
    });

    await expect(send()).rejects.toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'user_inactive' });

    expect(service.sent).toEqual(['token-1', 'token-1']);
  });

  it.each([
    ['another token refusal', invalidToken('token_expired')],
    [
      'a policy denial',
      new VivifiedError(ErrorCode.PolicyDenied, 'access denied', { reason: 'trait_missing' }),
    ],
    ['a timeout (the service may have acted)', new VivifiedError(ErrorCode.Timeout, 'timed out')],
    ['a handler error', new VivifiedError(ErrorCode.Conflict, 'conflict', { reason: 'token_revoked' })],
  ])('never retries %s', async (_what, error) => {
    await send();
    service.refused.set('token-1', error);

    await expect(send()).rejects.toBe(error);

    expect(service.sent).toEqual(['token-1', 'token-1']);
    expect(identity.exchanged).toHaveLength(1);
  });

  it('does not retry with a token it has just exchanged: only a cached one may be stale', async () => {
    service.refused.set('token-1', revoked());

    await expect(send()).rejects.toMatchObject({ reason: 'token_revoked' });

    expect(service.sent).toEqual(['token-1']);
    expect(identity.exchanged).toHaveLength(1);
  });

  it('exchanges once for concurrent requests, and once again when they are all refused as revoked', async () => {
    await Promise.all([send(), send(), send()]);
    service.refused.set('token-1', revoked());

    const answers = await Promise.all([send(), send(), send()]);

    expect(answers).toEqual(['done with token-2', 'done with token-2', 'done with token-2']);
    expect(identity.exchanged).toHaveLength(2);
    await send();
    expect(identity.exchanged).toHaveLength(2);
  });

  it('hands out the cached token to the lanes, which forward it themselves', async () => {
    await expect(sut.token(KEY)).resolves.toBe('token-1');
    await expect(sut.token(KEY)).resolves.toBe('token-1');

    expect(identity.exchanged).toHaveLength(1);
  });
});
