import { ErrorCode, tokenContract, VivifiedError } from '@vivified/contracts';
import type { CryptoKey } from 'jose';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import type { Clock } from './clock';
import type { SigningKeysService } from './signing-keys.service';
import { TokenSigner } from './token-signer.service';

const USER = '6f1c2a5e-8a51-4c55-9a3b-7d0f8f2f4a10';

/** A collaborator whose every unexpected call fails the test. */
function strict<T extends object>(name: string, implemented: Partial<T>): T {
  return new Proxy(implemented, {
    get(target, property) {
      if (property in target) {
        return target[property as keyof typeof target];
      }
      if (property === 'then') {
        return undefined;
      }
      throw new Error(`unexpected call ${name}.${String(property)}`);
    },
  }) as T;
}

async function refusal(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

describe(TokenSigner.name, () => {
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;

  beforeAll(async () => {
    ({ privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' }));
  });

  function newTestService() {
    let now = new Date(Date.UTC(2025, 0, 1, 12));
    const clock: Clock = { now: () => now };
    const keys = strict<SigningKeysService>('keys', {
      signingKey: () => Promise.resolve({ kid: 'kid-1', privateKey }),
      verificationKey: (kid: string) => Promise.resolve(kid === 'kid-1' ? publicKey : undefined),
    });

    return {
      sut: new TokenSigner(keys, clock),
      advance: (ms: number) => {
        now = new Date(now.getTime() + ms);
      },
    };
  }

  const enrollment = (sut: TokenSigner) =>
    sut.sign({
      sub: `user:${USER}`,
      typ: 'user',
      traits: [],
      audience: tokenContract.enrollmentAudience,
      lifetime: tokenContract.lifetimes.enrollment,
    });

  it('signs the claims of TokenClaims with the current kid, and nothing more', async () => {
    const { sut } = newTestService();

    const { token, expiresIn } = await sut.sign({
      sub: 'plugin:acme-crm',
      typ: 'plugin',
      traits: ['handles_pii'],
      lifetime: tokenContract.lifetimes.plugin,
    });

    expect(expiresIn).toBe(3600);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: 'kid-1', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub', 'traits', 'typ']);
    expect(claims).toMatchObject({
      iss: tokenContract.issuer,
      aud: tokenContract.audience,
      sub: 'plugin:acme-crm',
      typ: 'plugin',
      traits: ['handles_pii'],
      iat: Date.UTC(2025, 0, 1, 12) / 1000,
      exp: Date.UTC(2025, 0, 1, 13) / 1000,
    });
  });

  it('verifies its enrolment tokens and answers the user id', async () => {
    const { sut } = newTestService();

    await expect(sut.verifyEnrollment((await enrollment(sut)).token)).resolves.toBe(USER);
  });

  it('refuses an access token, an expired enrolment token and an unknown kid as enrolment tokens', async () => {
    const { sut, advance } = newTestService();
    const access = await sut.sign({
      sub: `user:${USER}`,
      typ: 'user',
      traits: ['admin'],
      lifetime: tokenContract.lifetimes.userAccess,
    });
    const { token } = await enrollment(sut);
    const foreign = await new SignJWT({ typ: 'user', traits: [] })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'kid-2' })
      .setIssuer(tokenContract.issuer)
      .setAudience(tokenContract.enrollmentAudience)
      .setSubject(`user:${USER}`)
      .setJti('x')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);

    expect((await refusal(sut.verifyEnrollment(access.token))).reason).toBe('token_invalid');
    expect((await refusal(sut.verifyEnrollment(foreign))).reason).toBe('kid_unknown');
    advance(11 * 60 * 1000);
    const expired = await refusal(sut.verifyEnrollment(token));
    expect(expired.code).toBe(ErrorCode.Unauthenticated);
    expect(expired.reason).toBe('token_expired');
  });

  it('refuses unsigned and malformed tokens before looking up a key', async () => {
    const { sut } = newTestService();
    const unsigned = new UnsecuredJWT({ typ: 'user', traits: [] })
      .setIssuer(tokenContract.issuer)
      .setAudience(tokenContract.enrollmentAudience)
      .setSubject(`user:${USER}`)
      .encode();

    expect((await refusal(sut.verifyEnrollment(unsigned))).reason).toBe('alg_not_allowed');
    expect((await refusal(sut.verifyEnrollment('garbage'))).reason).toBe('token_malformed');
  });
});
