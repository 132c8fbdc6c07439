import type {
  PasskeyAuthenticationCredential,
  PasskeyLoginOptionsReply,
  TokenClaims,
  TokenPair,
} from '@vivified/contracts';
import { ErrorCode, streams, subjects, tokenContract } from '@vivified/contracts';
import { ensureStream } from '@vivified/nats-transport';
import { waitFor } from '@vivified/testing';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Subscription } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuditSeen } from './accounts-support';
import { collectAudit, enrolAtFirstLogin } from './accounts-support';
import type { IdentityHarness } from './harness';
import { startIdentity } from './harness';
import { SoftwareAuthenticator } from './support/software-authenticator';

const ORIGIN = 'http://localhost:8080';
const PASSWORD = 'Passkey-Tests-Correct-42';

describe('passkeys (WebAuthn) on identity', () => {
  let identity: IdentityHarness;
  let pg: Client;
  let auditSub: Subscription;
  const audit: AuditSeen[] = [];
  const rawAudit: string[] = [];
  let alice: { id: string; username: string; token: string };
  let bob: { id: string; username: string; token: string };
  /** Alice's two authenticators: a laptop and a phone. */
  const laptop = new SoftwareAuthenticator({ origin: ORIGIN });
  const phone = new SoftwareAuthenticator({ origin: ORIGIN, aaguid: Buffer.alloc(16, 7) });

  async function adminToken(): Promise<string> {
    const { accessToken } = await enrolAtFirstLogin(
      identity.client,
      'admin',
      identity.env.VIVIFIED_ADMIN_PASSWORD ?? '',
    );

    return accessToken;
  }

  async function createUser(
    admin: string,
    username: string,
  ): Promise<{ id: string; username: string; token: string }> {
    const view = await identity.client.request(
      subjects.identity.users.create,
      { username, password: PASSWORD, roles: ['viewer'] },
      { token: admin },
    );
    const login = await identity.client.request(subjects.identity.auth.login, {
      username,
      password: PASSWORD,
    });

    return { id: view.id, username, token: login.accessToken as string };
  }

  async function registerPasskey(
    user: { token: string },
    authenticator: SoftwareAuthenticator,
    label: string,
  ): Promise<string> {
    const { ceremonyId, publicKey } = await identity.client.request(
      subjects.identity.webauthn.registerOptions,
      {},
      { token: user.token },
    );
    const credential = authenticator.create(publicKey);
    const summary = await identity.client.request(
      subjects.identity.webauthn.registerVerify,
      { ceremonyId, credential, label },
      { token: user.token },
    );

    return summary.id;
  }

  function loginOptions(username?: string): Promise<PasskeyLoginOptionsReply> {
    return identity.client.request(subjects.identity.webauthn.loginOptions, username ? { username } : {});
  }

  /** A passkey login that must open a session (these users have no one-time password): its tokens. */
  async function loginVerify(
    ceremonyId: string,
    credential: PasskeyAuthenticationCredential,
  ): Promise<TokenPair> {
    const reply = await identity.client.request(subjects.identity.webauthn.loginVerify, {
      ceremonyId,
      credential,
      ip: '192.0.2.10',
      userAgent: 'webauthn-int-spec',
    });
    const { accessToken, refreshToken, expiresIn, tokenType } = reply;
    if (!accessToken || !refreshToken || expiresIn === undefined || tokenType !== 'Bearer') {
      throw new Error(`expected tokens, got ${Object.keys(reply).join(', ')}`);
    }

    return { accessToken, refreshToken, expiresIn, tokenType };
  }

  async function verifyAccessToken(token: string): Promise<TokenClaims> {
    const { keys } = await identity.client.request(subjects.identity.keys.jwks, {});
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys }), {
      algorithms: [tokenContract.algorithm],
      issuer: tokenContract.issuer,
      audience: tokenContract.audience,
    });

    return payload as unknown as TokenClaims;
  }

  const invalidCredentials = { code: ErrorCode.Unauthenticated, message: 'invalid credentials' };

  beforeAll(async () => {
    identity = await startIdentity({
      VIVIFIED_WEBAUTHN_ORIGINS: ORIGIN,
      VIVIFIED_WEBAUTHN_RP_ID: 'localhost',
    });
    // The audit service owns VIVIFIED_AUDIT; here the test creates it so records are stored, and watches them.
    await ensureStream(await identity.nc.jetstreamManager(), streams.audit);
    auditSub = collectAudit<AuditSeen>(identity.nc, audit, rawAudit, (record) =>
      record.action.startsWith('webauthn.'),
    );
    pg = new Client({ connectionString: identity.db.url, options: '-c search_path=identity,public' });
    await pg.connect();
    const admin = await adminToken();
    alice = await createUser(admin, 'alice');
    bob = await createUser(admin, 'bob');
  });

  afterAll(async () => {
    auditSub?.unsubscribe();
    await pg?.end().catch(() => undefined);
    await identity?.stop();
  });

  it('registers two passkeys for a user, excluding the ones it has, and lists them', async () => {
    await registerPasskey(alice, laptop, 'Laptop');
    const second = await identity.client.request(
      subjects.identity.webauthn.registerOptions,
      {},
      { token: alice.token },
    );

    expect(second.publicKey.excludeCredentials?.map((descriptor) => descriptor.id)).toEqual([
      laptop.held[0]?.id,
    ]);
    expect(second.publicKey.authenticatorSelection?.userVerification).toBe('required');
    expect(second.publicKey.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => laptop.create(second.publicKey)).toThrow(/InvalidStateError/);

    const credential = phone.create(second.publicKey);
    const summary = await identity.client.request(
      subjects.identity.webauthn.registerVerify,
      { ceremonyId: second.ceremonyId, credential, label: 'Phone' },
      { token: alice.token },
    );
    const { credentials } = await identity.client.request(
      subjects.identity.webauthn.listCredentials,
      {},
      { token: alice.token },
    );
    const bobs = await identity.client.request(
      subjects.identity.webauthn.listCredentials,
      {},
      { token: bob.token },
    );

    expect(summary).toMatchObject({ label: 'Phone', aaguid: '07070707-0707-0707-0707-070707070707' });
    expect(credentials.map((passkey) => passkey.label)).toEqual(['Laptop', 'Phone']);
    expect(credentials[0]).not.toHaveProperty('publicKey');
    expect(bobs.credentials).toEqual([]);
    expect(
      audit.filter((record) => record.action === 'webauthn.register' && record.outcome === 'success'),
    ).toHaveLength(2);
  });

  it('logs in with each passkey, usernameless and with a username, into a session like password + TOTP', async () => {
    for (const [authenticator, username] of [
      [laptop, undefined],
      [phone, 'alice'],
      [phone, undefined],
      [laptop, 'Alice'],
    ] as const) {
      const { ceremonyId, publicKey } = await loginOptions(username);
      expect(publicKey.userVerification).toBe('required');
      const tokens = await loginVerify(ceremonyId, authenticator.get(publicKey));
      const claims = await verifyAccessToken(tokens.accessToken);
      const me = await identity.client.request(subjects.identity.auth.me, {}, { token: tokens.accessToken });

      expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: tokenContract.lifetimes.userAccess });
      expect(tokens.refreshToken).toEqual(expect.any(String));
      expect(claims).toMatchObject({ sub: `user:${alice.id}`, typ: 'user', roles: ['viewer'] });
      expect(claims.traits).toContain('viewer');
      expect(me.username).toBe('alice');
    }
    const { keys } = await identity.client.request(subjects.identity.keys.jwks, {});
    expect(keys.length).toBeGreaterThan(0);
  });

  it('lists only the user’s passkeys for a username, and stable look-alike options for an unknown one', async () => {
    const known = await loginOptions('alice');
    const unknownFirst = await loginOptions('nobody-here');
    const unknownAgain = await loginOptions('nobody-here');
    const noPasskeys = await loginOptions('bob');
    const usernameless = await loginOptions();

    expect(known.publicKey.allowCredentials?.map((descriptor) => descriptor.id).sort()).toEqual(
      laptop.held
        .concat(phone.held)
        .map((credential) => credential.id)
        .sort(),
    );
    expect(unknownFirst.publicKey.allowCredentials).toHaveLength(1);
    expect(unknownFirst.publicKey.allowCredentials).toEqual(unknownAgain.publicKey.allowCredentials);
    expect(unknownFirst.publicKey.allowCredentials?.[0]?.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(noPasskeys.publicKey.allowCredentials).toHaveLength(1);
    expect(usernameless.publicKey.allowCredentials ?? []).toEqual([]);
    // alice's passkey cannot answer a login bound to bob's username
    await expect(
      loginVerify(
        noPasskeys.ceremonyId,
        laptop.get(noPasskeys.publicKey, { credentialId: laptop.held[0]?.id }),
      ),
    ).rejects.toMatchObject(invalidCredentials);
  });

  it('refuses a replayed assertion', async () => {
    const { ceremonyId, publicKey } = await loginOptions();
    const assertion = laptop.get(publicKey);
    await loginVerify(ceremonyId, assertion);
    const next = await loginOptions();

    await expect(loginVerify(ceremonyId, assertion)).rejects.toMatchObject(invalidCredentials);
    await expect(loginVerify(next.ceremonyId, assertion)).rejects.toMatchObject(invalidCredentials);
  });

  it('consumes a challenge once even for a passkey whose counter stays 0', async () => {
    const synced = new SoftwareAuthenticator({ origin: ORIGIN, countsSignatures: false });
    await registerPasskey(bob, synced, 'Synced');
    const first = await loginOptions('bob');
    const assertion = synced.get(first.publicKey);
    await expect(loginVerify(first.ceremonyId, assertion)).resolves.toMatchObject({ tokenType: 'Bearer' });
    const second = await loginOptions('bob');
    await expect(loginVerify(second.ceremonyId, synced.get(second.publicKey))).resolves.toMatchObject({
      tokenType: 'Bearer',
    });

    await expect(loginVerify(first.ceremonyId, assertion)).rejects.toMatchObject(invalidCredentials);
    await waitFor(() =>
      audit.some(
        (record) => record.action === 'webauthn.login' && record.details.reason === 'ceremony_unknown',
      ),
    );
  });

  it('refuses a sign counter that does not increase and audits a possible cloned authenticator', async () => {
    const [credential] = laptop.held;
    if (!credential) {
      throw new Error('no laptop credential');
    }
    const current = credential.signCount;
    const cloneOptions = await loginOptions();

    await expect(
      loginVerify(cloneOptions.ceremonyId, laptop.get(cloneOptions.publicKey, { signCount: current })),
    ).rejects.toMatchObject(invalidCredentials);
    const anomaly = await waitFor(
      () => audit.find((record) => record.action === 'webauthn.counter_anomaly'),
      { what: 'the counter anomaly audit record' },
    );
    expect(anomaly).toMatchObject({
      outcome: 'denied',
      target: `user:${alice.id}`,
      details: { storedCount: current, presentedCount: current, suspicion: 'cloned_authenticator' },
    });

    // the genuine authenticator, one step ahead, still works
    const genuine = await loginOptions();
    await expect(
      loginVerify(genuine.ceremonyId, laptop.get(genuine.publicKey, { signCount: current + 1 })),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('refuses an expired challenge', async () => {
    const { ceremonyId, publicKey } = await loginOptions();
    const { rows } = await pg.query<{ ttl: number }>(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM webauthn_challenges WHERE id = $1`,
      [ceremonyId],
    );
    expect(rows[0]?.ttl).toBe(300);
    // five minutes pass
    await pg.query(`UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      ceremonyId,
    ]);

    await expect(loginVerify(ceremonyId, phone.get(publicKey))).rejects.toMatchObject(invalidCredentials);
    await waitFor(() =>
      audit.some(
        (record) => record.action === 'webauthn.login' && record.details.reason === 'ceremony_expired',
      ),
    );
  });

  it('refuses a response from another origin, without user verification, or for an unknown credential', async () => {
    const phishing = await loginOptions();
    await expect(
      loginVerify(phishing.ceremonyId, phone.get(phishing.publicKey, { origin: 'https://evil.example' })),
    ).rejects.toMatchObject(invalidCredentials);

    const noUv = await loginOptions();
    await expect(
      loginVerify(noUv.ceremonyId, phone.get(noUv.publicKey, { userVerified: false })),
    ).rejects.toMatchObject(invalidCredentials);

    const stranger = new SoftwareAuthenticator({ origin: ORIGIN });
    const registration = await identity.client.request(
      subjects.identity.webauthn.registerOptions,
      {},
      { token: bob.token },
    );
    stranger.create(registration.publicKey); // created but never sent: the server does not know it
    const unknown = await loginOptions();
    await expect(loginVerify(unknown.ceremonyId, stranger.get(unknown.publicKey))).rejects.toMatchObject(
      invalidCredentials,
    );

    const wrongOrigin = await identity.client.request(
      subjects.identity.webauthn.registerOptions,
      {},
      { token: bob.token },
    );
    await expect(
      identity.client.request(
        subjects.identity.webauthn.registerVerify,
        {
          ceremonyId: wrongOrigin.ceremonyId,
          credential: new SoftwareAuthenticator({ origin: ORIGIN }).create(wrongOrigin.publicKey, {
            origin: 'https://evil.example',
          }),
        },
        { token: bob.token },
      ),
    ).rejects.toMatchObject({ code: ErrorCode.BadRequest, reason: 'verification_failed' });
    const { credentials } = await identity.client.request(
      subjects.identity.webauthn.listCredentials,
      {},
      { token: bob.token },
    );
    expect(credentials.map((passkey) => passkey.label)).toEqual(['Synced']);
  });

  it('removes only the caller’s own passkey, after which it no longer logs in nor any older session works', async () => {
    const { credentials } = await identity.client.request(
      subjects.identity.webauthn.listCredentials,
      {},
      { token: alice.token },
    );
    const phonePasskey = credentials.find((passkey) => passkey.label === 'Phone');
    if (!phonePasskey) {
      throw new Error('no phone passkey');
    }

    await expect(
      identity.client.request(
        subjects.identity.webauthn.removeCredential,
        { id: phonePasskey.id },
        { token: bob.token },
      ),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
    // someone else's passkey is not found, and ends none of the caller's sessions
    await expect(
      identity.client.request(subjects.identity.auth.me, {}, { token: bob.token }),
    ).resolves.toMatchObject({ username: 'bob' });
    const removed = await identity.client.request(
      subjects.identity.webauthn.removeCredential,
      { id: phonePasskey.id },
      { token: alice.token },
    );
    // the password session and every passkey session so far
    expect(Object.keys(removed).sort()).toEqual(['id', 'sessionsEnded']);
    expect(removed.id).toBe(phonePasskey.id);
    expect(removed.sessionsEnded).toBeGreaterThanOrEqual(2);

    // the sidecar follows vivified_sessions within milliseconds
    const refused = await waitFor(
      () =>
        identity.client.request(subjects.identity.auth.me, {}, { token: alice.token }).then(
          () => undefined,
          (error: unknown) => error,
        ),
      { what: "alice's older token to be refused", timeoutMs: 1_000, intervalMs: 20 },
    );
    expect(refused).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'token_revoked' });
    const { ceremonyId, publicKey } = await loginOptions();
    await expect(loginVerify(ceremonyId, phone.get(publicKey))).rejects.toMatchObject(invalidCredentials);
    const laptopLogin = await loginOptions('alice');
    const fresh = await loginVerify(laptopLogin.ceremonyId, laptop.get(laptopLogin.publicKey));
    const after = await identity.client.request(
      subjects.identity.webauthn.listCredentials,
      {},
      { token: fresh.accessToken },
    );
    expect(after.credentials.map((passkey) => passkey.label)).toEqual(['Laptop']);
  });

  it('keeps registration and the credential list for signed-in users', async () => {
    await expect(
      identity.client.request(subjects.identity.webauthn.registerOptions, {}),
    ).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
    await expect(
      identity.client.request(subjects.identity.webauthn.listCredentials, {}),
    ).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
  });

  it('audits every ceremony without credential material', async () => {
    await waitFor(() =>
      audit.some((record) => record.action === 'webauthn.remove' && record.outcome === 'success'),
    );
    const secrets = [...laptop.held, ...phone.held].map((credential) => credential.id);

    expect(new Set(audit.map((record) => `${record.action}:${record.outcome}`))).toEqual(
      new Set([
        'webauthn.register:success',
        'webauthn.register:failure',
        'webauthn.login:success',
        'webauthn.login:failure',
        'webauthn.counter_anomaly:denied',
        'webauthn.remove:success',
        'webauthn.remove:failure',
      ]),
    );
    for (const text of rawAudit) {
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toMatch(/signature|clientDataJSON|authenticatorData|publicKey/);
    }
  });
});
