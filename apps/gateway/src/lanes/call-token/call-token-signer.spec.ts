import { randomBytes } from 'node:crypto';

import { callTokenContract } from '@vivified/contracts';
import { importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

import { CallTokenSigner } from './call-token-signer';

describe(CallTokenSigner.name, () => {
  const seed = randomBytes(32);
  const sut = new CallTokenSigner(seed);

  it('derives the same key from the same seed (every replica signs alike)', () => {
    expect(new CallTokenSigner(seed).kid).toBe(sut.kid);
    expect(new CallTokenSigner(randomBytes(32)).kid).not.toBe(sut.kid);
  });

  it('signs a token any JOSE library verifies with the published JWK, expiring with the deadline', async () => {
    const token = sut.sign({
      caller: 'plugin:a-app',
      target: 'b-app',
      operation: 'get_user',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      traits: ['handles_pii'],
      deadline: Date.now() + 5_000,
    });
    const { payload, protectedHeader } = await jwtVerify(token, await importJWK({ ...sut.jwk() }, 'EdDSA'), {
      issuer: callTokenContract.issuer,
      audience: 'plugin:b-app',
      algorithms: ['EdDSA'],
    });

    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: sut.kid, typ: callTokenContract.headerType });
    expect(payload).toMatchObject({
      sub: 'plugin:a-app',
      typ: 'call',
      operation: 'get_user',
      traits: ['handles_pii'],
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(7);
  });

  it('caps the lifetime at the contract maximum', () => {
    const token = sut.sign({
      caller: 'plugin:a-app',
      target: 'b-app',
      operation: 'x',
      traits: [],
      deadline: Date.now() + 3_600_000,
    });
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      iat: number;
      exp: number;
    };

    expect(claims.exp - claims.iat).toBe(callTokenContract.maxLifetimeSeconds);
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => new CallTokenSigner(new Uint8Array(16))).toThrow(TypeError);
  });
});
