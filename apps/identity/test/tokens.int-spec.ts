import { JwksKeyStore, TokenVerifier } from '@vivified/auth';
import type { TokenPair } from '@vivified/contracts';
import { ErrorCode, subjects, tokenContract, VivifiedError } from '@vivified/contracts';
import { waitFor } from '@vivified/testing';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { UserSnapshot } from '../src/identity.ports';
import { SessionsService } from '../src/tokens/sessions.service';
import { SigningKeysService } from '../src/tokens/signing-keys.service';
import type { TokensHarness } from './tokens-fixtures';
import { startTokens } from './tokens-fixtures';

const MINUTE = 60 * 1000;

async function refusal(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

describe('identity tokens: signing keys, JWKS and sessions', () => {
  let identity: TokensHarness;
  let verifier: TokenVerifier;
  let keyStore: JwksKeyStore;

  beforeAll(async () => {
    identity = await startTokens();
    keyStore = new JwksKeyStore(identity.nc, { refreshMinIntervalMs: 0 });
    await keyStore.start();
    verifier = new TokenVerifier({ keys: keyStore, now: () => identity.clock.now().getTime() });
  });

  afterAll(async () => {
    await keyStore?.stop();
    await identity?.stop();
  });

  const session = async (roles: string[] = ['viewer']): Promise<{ user: UserSnapshot; pair: TokenPair }> => {
    const user = await identity.createUser(roles);
    const pair = await identity.issuer.startSession(user, { method: 'password', ip: '127.0.0.1' });

    return { user, pair };
  };

  describe('signing keys', () => {
    it('publishes the current key to the JWKS bucket on start and serves the same set on NATS', async () => {
      const inBucket = await identity.bucketKeys();
      const served = await identity.client.request(subjects.identity.keys.jwks, {});

      expect(inBucket).toHaveLength(1);
      expect(inBucket[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(inBucket[0]?.retiresAt).toBeUndefined();
      expect(served.keys).toEqual(inBucket);
      // the private key is sealed at rest, never stored as PEM
      const [row] = await identity.sql<{ private_sealed: string }>('SELECT private_sealed FROM signing_keys');
      expect(row?.private_sealed).toMatch(/^v1\./);
      expect(row?.private_sealed).not.toContain('PRIVATE KEY');
    });

    it('signs user tokens with exactly the claims of TokenClaims', async () => {
      const { user, pair } = await session(['operator']);
      const { payload, protectedHeader } = await identity.verifyWithBucket(pair.accessToken);

      expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'JWT' });
      expect(Object.keys(payload).sort()).toEqual(
        ['amr', 'aud', 'exp', 'iat', 'iss', 'jti', 'roles', 'sid', 'sub', 'traits', 'typ'].sort(),
      );
      expect(payload).toMatchObject({
        iss: tokenContract.issuer,
        aud: tokenContract.audience,
        sub: `user:${user.id}`,
        typ: 'user',
        roles: ['operator'],
        amr: ['password'],
      });
      expect([...payload.traits].sort()).toEqual([...user.traits].sort());
      expect(payload.exp - payload.iat).toBe(tokenContract.lifetimes.userAccess);
      expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: tokenContract.lifetimes.userAccess });
      const verified = await verifier.verify(pair.accessToken);
      expect(verified.principal).toMatchObject({ kind: 'user', id: user.id });
    });

    it('refuses a key rotation to a user without security_admin or admin', async () => {
      const { pair } = await session(['viewer']);
      const error = await refusal(
        identity.client.request(subjects.identity.keys.rotate, {}, { token: pair.accessToken }),
      );

      expect(error.code).toBe(ErrorCode.PolicyDenied);
    });

    it('rotates: tokens signed before and after verify, the old key retires after the longest lifetime', async () => {
      const { pair: before } = await session();
      const oldKid = decodeProtectedHeader(before.accessToken).kid;
      const admin = await session(['security_admin']);

      const rotated = await identity.client.request(
        subjects.identity.keys.rotate,
        {},
        { token: admin.pair.accessToken },
      );

      expect(rotated.previousKid).toBe(oldKid);
      expect(rotated.kid).not.toBe(oldKid);
      const retiresIn = Date.parse(rotated.previousRetiresAt ?? '') - identity.clock.now().getTime();
      expect(retiresIn).toBeGreaterThan(60 * MINUTE);
      expect(retiresIn).toBeLessThanOrEqual(66 * MINUTE);

      const { pair: after } = await session();
      expect(decodeProtectedHeader(after.accessToken).kid).toBe(rotated.kid);
      const keys = await identity.bucketKeys();
      expect(keys.map((key) => key.kid).sort()).toEqual([oldKid, rotated.kid].sort());
      expect(keys.find((key) => key.kid === oldKid)?.retiresAt).toBe(rotated.previousRetiresAt);
      await expect(identity.verifyWithBucket(before.accessToken)).resolves.toBeDefined();
      await expect(identity.verifyWithBucket(after.accessToken)).resolves.toBeDefined();
      await waitFor(() => keyStore.kids().includes(rotated.kid));
      await expect(verifier.verify(before.accessToken)).resolves.toBeDefined();
      await expect(verifier.verify(after.accessToken)).resolves.toBeDefined();

      // past retiresAt the old key leaves the bucket; the current one stays
      identity.clock.advance(67 * MINUTE);
      await identity.get(SigningKeysService).maintain();
      const left = await identity.bucketKeys();
      expect(left.map((key) => key.kid)).toEqual([rotated.kid]);
      const served = await identity.client.request(subjects.identity.keys.jwks, {});
      expect(served.keys.map((key) => key.kid)).toEqual([rotated.kid]);
      await expect(identity.verifyWithBucket(before.accessToken)).rejects.toThrow();
    });

    it('issues enrolment tokens that open enrolment only', async () => {
      const user = await identity.createUser(['admin']);
      const enrollment = await identity.issuer.enrollmentToken(user);
      const { pair } = await session();

      await expect(identity.issuer.verifyEnrollmentToken(enrollment)).resolves.toBe(user.id);
      const claims = await identity.verifyWithBucket(enrollment, tokenContract.enrollmentAudience);
      expect(claims.payload).toMatchObject({ sub: `user:${user.id}`, typ: 'user', traits: [] });
      expect(claims.payload.exp - claims.payload.iat).toBe(tokenContract.lifetimes.enrollment);
      // an access token is no enrolment token, and an enrolment token is no access token
      expect((await refusal(identity.issuer.verifyEnrollmentToken(pair.accessToken))).code).toBe(
        ErrorCode.Unauthenticated,
      );
      expect((await refusal(verifier.verify(enrollment))).reason).toBe('audience_mismatch');
      expect((await refusal(identity.issuer.verifyEnrollmentToken('not.a.token'))).code).toBe(
        ErrorCode.Unauthenticated,
      );
    });
  });

  describe('sessions', () => {
    it('rotates the refresh token on every refresh', async () => {
      const { user, pair } = await session(['viewer']);

      const next = await identity.client.request(subjects.identity.auth.refresh, {
        refreshToken: pair.refreshToken,
      });

      expect(next.refreshToken).not.toBe(pair.refreshToken);
      const first = await identity.verifyWithBucket(pair.accessToken);
      const second = await identity.verifyWithBucket(next.accessToken);
      expect(second.payload.sid).toBe(first.payload.sid);
      expect(second.payload.sub).toBe(`user:${user.id}`);
      // the session's login method rides on every access token of the session
      expect(second.payload.amr).toEqual(['password']);
      // refresh tokens are stored as keyed hashes only
      const rows = await identity.sql<{ hash: string }>(
        'SELECT hash FROM refresh_tokens WHERE session_id = $1',
        [first.payload.sid],
      );
      expect(rows).toHaveLength(2);
      expect(rows.map((row) => row.hash)).not.toContain(pair.refreshToken);
      expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.hash))).toBe(true);
    });

    it('re-reads roles on refresh', async () => {
      const { user, pair } = await session(['viewer']);
      await identity.sql(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'developer')`, [user.id]);

      const next = await identity.client.request(subjects.identity.auth.refresh, {
        refreshToken: pair.refreshToken,
      });

      const { payload } = await identity.verifyWithBucket(next.accessToken);
      expect(payload.roles?.sort()).toEqual(['developer', 'viewer']);
      expect(payload.traits).toContain('developer');
    });

    it('revokes the whole family when a used refresh token comes back', async () => {
      const { pair } = await session();
      const next = await identity.client.request(subjects.identity.auth.refresh, {
        refreshToken: pair.refreshToken,
      });

      const reuse = await refusal(
        identity.client.request(subjects.identity.auth.refresh, { refreshToken: pair.refreshToken }),
      );
      expect(reuse.code).toBe(ErrorCode.Unauthenticated);
      expect(reuse.reason).toBe('refresh_token_reused');

      // the newer token of the family dies with it
      const newer = await refusal(
        identity.client.request(subjects.identity.auth.refresh, { refreshToken: next.refreshToken }),
      );
      expect(newer.code).toBe(ErrorCode.Unauthenticated);
      expect(newer.reason).toBe('session_revoked');
      const { payload } = await identity.verifyWithBucket(pair.accessToken);
      const [row] = await identity.sql<{ revoke_reason: string }>(
        'SELECT revoke_reason FROM sessions WHERE id = $1',
        [payload.sid],
      );
      expect(row?.revoke_reason).toBe('refresh_token_reuse');
    });

    it('refuses an unknown refresh token', async () => {
      const error = await refusal(
        identity.client.request(subjects.identity.auth.refresh, { refreshToken: 'made-up' }),
      );

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.reason).toBe('invalid_refresh_token');
    });

    it('ends a session idle for more than 30 minutes', async () => {
      const { pair } = await session();
      identity.clock.advance(29 * MINUTE);
      const kept = await identity.client.request(subjects.identity.auth.refresh, {
        refreshToken: pair.refreshToken,
      });

      identity.clock.advance(31 * MINUTE);
      const error = await refusal(
        identity.client.request(subjects.identity.auth.refresh, { refreshToken: kept.refreshToken }),
      );

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.reason).toBe('session_expired');
    });

    it('ends a session 12 hours after login however it is used', async () => {
      const { pair } = await session();
      let refreshToken = pair.refreshToken;
      for (let elapsed = 0; elapsed < 12 * 60; elapsed += 25) {
        identity.clock.advance(25 * MINUTE);
        if (elapsed + 25 >= 12 * 60) {
          break;
        }
        ({ refreshToken } = await identity.client.request(subjects.identity.auth.refresh, { refreshToken }));
      }

      const error = await refusal(identity.client.request(subjects.identity.auth.refresh, { refreshToken }));
      expect(error.reason).toBe('session_expired');
    });

    it('logs out: the session ends, and logout answers {} for any token', async () => {
      const { pair } = await session();

      await expect(
        identity.client.request(subjects.identity.auth.logout, { refreshToken: pair.refreshToken }),
      ).resolves.toEqual({});
      await expect(
        identity.client.request(subjects.identity.auth.logout, { refreshToken: 'never-issued' }),
      ).resolves.toEqual({});

      const error = await refusal(
        identity.client.request(subjects.identity.auth.refresh, { refreshToken: pair.refreshToken }),
      );
      expect(error.reason).toBe('session_revoked');
    });

    it('audits session starts, refreshes, reuse and revocations, never with a refresh token in them', async () => {
      const { user, pair } = await session();
      const next = await identity.client.request(subjects.identity.auth.refresh, {
        refreshToken: pair.refreshToken,
      });
      await refusal(
        identity.client.request(subjects.identity.auth.refresh, { refreshToken: pair.refreshToken }),
      );
      const { payload } = await identity.verifyWithBucket(pair.accessToken);

      const records = (await identity.auditRecords()).filter(
        (record) => record.target === `session:${payload.sid}`,
      );
      expect(records.map((record) => `${record.action}/${record.outcome}`)).toEqual([
        'session.start/success',
        'token.refresh/success',
        'token.reuse_detected/denied',
        'token.refresh/denied',
        'session.revoke/success',
      ]);
      expect(
        records.every((record) => record.category === 'auth' && record.actor.id === `user:${user.id}`),
      ).toBe(true);
      const trail = JSON.stringify(await identity.auditRecords());
      for (const secret of [pair.refreshToken, next.refreshToken, pair.accessToken, next.accessToken]) {
        expect(trail).not.toContain(secret);
      }
      const keyEvents = (await identity.auditRecords()).filter((record) => record.category === 'key');
      expect(keyEvents.map((record) => record.action)).toEqual(['key.create', 'key.rotate']);
    });

    it('ends every session of a user on revokeUserSessions, and refuses a deactivated user', async () => {
      const { user, pair: first } = await session();
      const second = await identity.issuer.startSession(user, { method: 'webauthn' });

      await expect(identity.issuer.revokeUserSessions(user.id, 'password_changed')).resolves.toBe(2);
      for (const refreshToken of [first.refreshToken, second.refreshToken]) {
        const error = await refusal(
          identity.client.request(subjects.identity.auth.refresh, { refreshToken }),
        );
        expect(error.reason).toBe('session_revoked');
      }

      const third = await identity.issuer.startSession(user, { method: 'password' });
      await identity.deactivate(user.id);
      const inactive = await refusal(
        identity.client.request(subjects.identity.auth.refresh, { refreshToken: third.refreshToken }),
      );
      expect(inactive.code).toBe(ErrorCode.Unauthenticated);
      const [row] = await identity.sql<{ revoked: number }>(
        `SELECT count(*)::int AS revoked FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL`,
        [user.id],
      );
      expect(row?.revoked).toBe(3);
    });

    it('deletes sessions a week after they ended, with their refresh tokens', async () => {
      const { pair } = await session();
      const { payload } = await identity.verifyWithBucket(pair.accessToken);
      await identity.client.request(subjects.identity.auth.logout, { refreshToken: pair.refreshToken });

      identity.clock.advance(6 * 24 * 60 * MINUTE);
      await identity.get(SessionsService).deleteEnded();
      expect(await identity.sql('SELECT id FROM sessions WHERE id = $1', [payload.sid])).toHaveLength(1);

      identity.clock.advance(2 * 24 * 60 * MINUTE);
      await expect(identity.get(SessionsService).deleteEnded()).resolves.toBeGreaterThan(0);
      expect(await identity.sql('SELECT id FROM sessions WHERE id = $1', [payload.sid])).toHaveLength(0);
      expect(
        await identity.sql('SELECT hash FROM refresh_tokens WHERE session_id = $1', [payload.sid]),
      ).toHaveLength(0);
    });
  });
});
