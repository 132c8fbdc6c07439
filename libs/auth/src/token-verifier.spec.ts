import { randomUUID } from 'node:crypto';

import { ErrorCode, tokenContract, VivifiedError } from '@vivified/contracts';
import type { CryptoKey, JWTPayload } from 'jose';
import { base64url, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import type { KeyResolver, VerificationKey } from './token-verifier';
import { TokenVerifier } from './token-verifier';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW_S = NOW / 1000;
const KID = 'k-2026-01';
const USER_ID = randomUUID();

let signing: { privateKey: CryptoKey; publicKey: CryptoKey };
let attacker: { privateKey: CryptoKey; publicKey: CryptoKey };

beforeAll(async () => {
  signing = await generateKeyPair('EdDSA', { extractable: true });
  attacker = await generateKeyPair('EdDSA', { extractable: true });
});

/** A resolver of the test key, with a spy on its lookups. */
function resolver(): KeyResolver & { lookups: string[] } {
  const keys = new Map<string, VerificationKey>([[KID, signing.publicKey]]);
  const lookups: string[] = [];

  return {
    lookups,
    resolve: (kid: string) => {
      lookups.push(kid);

      return Promise.resolve(keys.get(kid));
    },
  };
}

function verifierWith(keys: KeyResolver = resolver()): TokenVerifier {
  return new TokenVerifier({ keys, now: () => NOW });
}

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: tokenContract.issuer,
    aud: tokenContract.audience,
    sub: `user:${USER_ID}`,
    typ: 'user',
    traits: ['user_manager'],
    roles: ['admin'],
    sid: 'session-1',
    jti: randomUUID(),
    iat: NOW_S,
    exp: NOW_S + tokenContract.lifetimes.userAccess,
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) {
      delete base[key];
    } else {
      base[key] = value;
    }
  }

  return base;
}

async function sign(
  payload: JWTPayload,
  header: Record<string, unknown> = {},
  key: CryptoKey | Uint8Array = signing.privateKey,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: KID, ...header }).sign(key);
}

async function rejection(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

async function expectRefused(token: string, reason: string, keys?: KeyResolver): Promise<void> {
  const error = await rejection(verifierWith(keys).verify(token));
  expect(error.code).toBe(ErrorCode.Unauthenticated);
  expect(error.message).toBe('invalid token');
  expect(error.reason).toBe(reason);
}

function segments(token: string): [string, string, string] {
  return token.split('.') as [string, string, string];
}

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

function decodeJson(segment: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64url.decode(segment))) as Record<string, unknown>;
}

describe(TokenVerifier.name, () => {
  describe('valid tokens', () => {
    it('accepts a user token and answers its principal and claims', async () => {
      const payload = claims();

      const result = await verifierWith().verify(await sign(payload));

      expect(result.principal).toEqual({
        kind: 'user',
        id: USER_ID,
        traits: ['user_manager'],
        roles: ['admin'],
      });
      expect(result.claims).toEqual(payload);
    });

    it('answers the amr claim when there is one, and none when a token has none', async () => {
      const sut = verifierWith();

      const session = await sut.verify(await sign(claims({ amr: ['password+totp'] })));
      const apiKey = await sut.verify(
        await sign(claims({ amr: [tokenContract.apiKeyMethod], roles: undefined, sid: undefined })),
      );
      const before = await sut.verify(await sign(claims()));

      expect(session.claims.amr).toEqual(['password+totp']);
      expect(apiKey.claims.amr).toEqual(['api_key']);
      expect(before.claims.amr).toBeUndefined();
      expect('amr' in before.claims).toBe(false);
    });

    it('accepts a plugin token, with no roles', async () => {
      const token = await sign(
        claims({
          sub: 'plugin:acme-crm',
          typ: 'plugin',
          traits: ['handles_pii'],
          roles: undefined,
          sid: undefined,
        }),
      );

      const result = await verifierWith().verify(token);

      expect(result.principal).toEqual({
        kind: 'plugin',
        id: 'acme-crm',
        traits: ['handles_pii'],
        roles: [],
      });
      expect(result.claims.roles).toBeUndefined();
    });

    it('accepts a service token', async () => {
      const token = await sign(
        claims({ sub: 'service:event-router', typ: 'service', traits: [], roles: undefined, sid: undefined }),
      );

      const result = await verifierWith().verify(token);

      expect(result.principal).toEqual({ kind: 'service', id: 'event-router', traits: [], roles: [] });
    });

    it('accepts a token expired by less than the clock tolerance', async () => {
      const token = await sign(claims({ iat: NOW_S - 900, exp: NOW_S - 3 }));

      await expect(verifierWith().verify(token)).resolves.toMatchObject({ principal: { id: USER_ID } });
    });
  });

  describe('algorithms, refused from the header before any key lookup', () => {
    it('refuses alg none', async () => {
      const keys = resolver();
      const token = new UnsecuredJWT(claims()).encode();

      await expectRefused(token, 'alg_not_allowed', keys);
      expect(keys.lookups).toEqual([]);
    });

    it('refuses HS256 signed with the public key bytes (algorithm confusion)', async () => {
      const keys = resolver();
      const publicJwk = await exportJWK(signing.publicKey);
      const token = await sign(claims(), { alg: 'HS256' }, base64url.decode(publicJwk.x as string));

      await expectRefused(token, 'alg_not_allowed', keys);
      expect(keys.lookups).toEqual([]);
    });

    it('refuses RS256', async () => {
      const keys = resolver();
      const rsa = await generateKeyPair('RS256');
      const token = await sign(claims(), { alg: 'RS256' }, rsa.privateKey);

      await expectRefused(token, 'alg_not_allowed', keys);
      expect(keys.lookups).toEqual([]);
    });

    it('refuses ES256', async () => {
      const keys = resolver();
      const ec = await generateKeyPair('ES256');
      const token = await sign(claims(), { alg: 'ES256' }, ec.privateKey);

      await expectRefused(token, 'alg_not_allowed', keys);
      expect(keys.lookups).toEqual([]);
    });

    it('refuses the Ed25519 alg name: only EdDSA is the contract', async () => {
      const [, payload, signature] = segments(await sign(claims()));
      const token = `${encodeJson({ alg: 'Ed25519', kid: KID })}.${payload}.${signature}`;

      await expectRefused(token, 'alg_not_allowed');
    });
  });

  describe('keys', () => {
    it('refuses a token without kid', async () => {
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA' }).sign(signing.privateKey);

      await expectRefused(token, 'kid_missing');
    });

    it('refuses an unknown kid', async () => {
      await expectRefused(await sign(claims(), { kid: 'k-unknown' }), 'kid_unknown');
    });

    it('refuses a token signed by another key under a known kid', async () => {
      await expectRefused(await sign(claims(), {}, attacker.privateKey), 'signature_invalid');
    });

    it('ignores a key embedded in the header', async () => {
      const jwk = await exportJWK(attacker.publicKey);

      await expectRefused(await sign(claims(), { jwk }, attacker.privateKey), 'signature_invalid');
    });

    it('answers UNAVAILABLE keys_unavailable when the key source fails', async () => {
      const keys: KeyResolver = { resolve: () => Promise.reject(new Error('bucket unreachable')) };

      const error = await rejection(verifierWith(keys).verify(await sign(claims())));

      expect(error.code).toBe(ErrorCode.Unavailable);
      expect(error.reason).toBe('keys_unavailable');
    });
  });

  describe('tampering', () => {
    it('refuses a tampered payload', async () => {
      const [header, payload, signature] = segments(await sign(claims()));
      const forged = {
        ...decodeJson(payload),
        traits: ['handles_phi', 'audit_required', 'encryption_required'],
      };

      await expectRefused(`${header}.${encodeJson(forged)}.${signature}`, 'signature_invalid');
    });

    it('refuses a tampered header', async () => {
      const [header, payload, signature] = segments(await sign(claims()));
      const forged = { ...decodeJson(header), typ: 'JWT', cty: 'x' };

      await expectRefused(`${encodeJson(forged)}.${payload}.${signature}`, 'signature_invalid');
    });

    it('refuses a stripped signature', async () => {
      const [header, payload] = segments(await sign(claims()));

      await expectRefused(`${header}.${payload}.`, 'signature_invalid');
    });
  });

  describe('lifetime', () => {
    it('refuses an expired token', async () => {
      await expectRefused(await sign(claims({ iat: NOW_S - 1000, exp: NOW_S - 60 })), 'token_expired');
    });

    it('refuses a token whose nbf is in the future', async () => {
      await expectRefused(await sign(claims({ nbf: NOW_S + 60 })), 'token_not_yet_valid');
    });

    it('refuses a token issued in the future beyond the tolerance', async () => {
      await expectRefused(await sign(claims({ iat: NOW_S + 60, exp: NOW_S + 960 })), 'token_not_yet_valid');
    });

    it('refuses a token issued longer ago than any token lives', async () => {
      await expectRefused(await sign(claims({ iat: NOW_S - 7200, exp: NOW_S + 3600 })), 'token_expired');
    });
  });

  describe('issuer and audience', () => {
    it('refuses another issuer', async () => {
      await expectRefused(await sign(claims({ iss: 'urn:evil' })), 'issuer_mismatch');
    });

    it('refuses another audience', async () => {
      await expectRefused(await sign(claims({ aud: 'urn:other' })), 'audience_mismatch');
    });

    it('refuses an MFA enrolment token as an access token', async () => {
      await expectRefused(await sign(claims({ aud: tokenContract.enrollmentAudience })), 'audience_mismatch');
    });
  });

  describe('claims', () => {
    it('refuses a typ that is not user, plugin or service', async () => {
      await expectRefused(await sign(claims({ typ: 'admin' })), 'claims_invalid');
    });

    it('refuses a token without typ', async () => {
      await expectRefused(await sign(claims({ typ: undefined })), 'claims_invalid');
    });

    it('refuses a sub of another kind than typ', async () => {
      await expectRefused(await sign(claims({ sub: 'service:identity' })), 'claims_invalid');
    });

    it('refuses a malformed sub', async () => {
      await expectRefused(await sign(claims({ sub: `user:${USER_ID}:x` })), 'claims_invalid');
    });

    it('refuses traits that are not a string array', async () => {
      await expectRefused(await sign(claims({ traits: 'handles_phi' })), 'claims_invalid');
      await expectRefused(await sign(claims({ traits: ['a', 1] })), 'claims_invalid');
    });

    it('refuses roles that are not a string array', async () => {
      await expectRefused(await sign(claims({ roles: { admin: true } })), 'claims_invalid');
    });

    it('refuses an amr that is not a string array', async () => {
      await expectRefused(await sign(claims({ amr: 'api_key' })), 'claims_invalid');
      await expectRefused(await sign(claims({ amr: ['pwd', 1] })), 'claims_invalid');
    });

    it('refuses a token without jti', async () => {
      await expectRefused(await sign(claims({ jti: undefined })), 'claims_invalid');
    });

    it('refuses a token without exp', async () => {
      await expectRefused(await sign(claims({ exp: undefined })), 'claims_invalid');
    });

    it('refuses a token without iat', async () => {
      await expectRefused(await sign(claims({ iat: undefined })), 'claims_invalid');
    });

    it('refuses a non-numeric exp', async () => {
      await expectRefused(await sign(claims({ exp: 'tomorrow' })), 'claims_invalid');
    });
  });

  describe('malformed input', () => {
    it.each([
      ['an empty string', ''],
      ['one segment', 'abc'],
      ['garbage segments', 'a.b.c'],
      ['five segments (a JWE)', `${encodeJson({ alg: 'dir', enc: 'A256GCM' })}.a.b.c.d`],
      ['an oversized token', `${encodeJson({ alg: 'EdDSA', kid: KID })}.${'a'.repeat(9000)}.b`],
    ])('refuses %s', async (_name, token) => {
      await expectRefused(token, 'token_malformed');
    });
  });
});

describe('TokenVerifier cache of verified tokens', () => {
  it('answers a token verified before, and a caller changing its answer changes nothing', async () => {
    let now = NOW;
    const sut = new TokenVerifier({ keys: resolver(), now: () => now });
    const token = await sign(claims());

    const first = await sut.verify(token);
    first.principal.traits.push('admin');
    now += 1_000;
    const second = await sut.verify(token);

    expect(second.principal.traits).toEqual(['user_manager']);
    expect(second.claims.jti).toBe(first.claims.jti);
  });

  it('answers a copy of a remembered amr: a caller changing it changes nothing', async () => {
    const sut = verifierWith();
    const token = await sign(claims({ amr: [tokenContract.apiKeyMethod] }));

    (await sut.verify(token)).claims.amr?.splice(0, 1, 'password');

    expect((await sut.verify(token)).claims.amr).toEqual(['api_key']);
  });

  it('forgets a token once it expires, even within the cache lifetime', async () => {
    let now = NOW;
    const sut = new TokenVerifier({ keys: resolver(), now: () => now, cacheTtlSeconds: 3600 });
    const token = await sign(claims({ exp: NOW_S + 30 }));
    await sut.verify(token);

    now += 60_000;

    expect((await rejection(sut.verify(token))).reason).toBe('token_expired');
  });

  it('refuses a remembered token once its key is no longer trusted', async () => {
    const trusted = new Map<string, VerificationKey>([[KID, signing.publicKey]]);
    const sut = new TokenVerifier({
      keys: { resolve: (kid) => Promise.resolve(trusted.get(kid)) },
      now: () => NOW,
    });
    const token = await sign(claims());
    await sut.verify(token);

    trusted.delete(KID);

    expect((await rejection(sut.verify(token))).reason).toBe('kid_unknown');
  });

  it('never remembers a refused token, and keeps at most cacheSize tokens', async () => {
    const sut = new TokenVerifier({ keys: resolver(), now: () => NOW, cacheSize: 2 });
    const forged = await sign(claims(), {}, attacker.privateKey);
    await rejection(sut.verify(forged));
    expect((await rejection(sut.verify(forged))).reason).toBe('signature_invalid');

    const tokens = await Promise.all([sign(claims()), sign(claims()), sign(claims())]);
    for (const token of tokens) {
      await sut.verify(token);
    }
    expect((await sut.verify(tokens[0])).principal.id).toBe(USER_ID);
  });
});
