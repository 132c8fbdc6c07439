import type { LoginReply, SessionRevocationEntry, TokenPair, UserView } from '@vivified/contracts';
import { buckets, ErrorCode, sessionRevocationKey, streams, subjects } from '@vivified/contracts';
import { ensureBucket, ensureStream } from '@vivified/nats-transport';
import { waitFor } from '@vivified/testing';
import { decodeJwt } from 'jose';
import type { KV, Subscription } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuditSeen } from './accounts-support';
import { collectAudit, enrolAtFirstLogin, rejection, TestAuthenticator } from './accounts-support';
import type { IdentityHarness } from './harness';
import { startIdentity } from './harness';
import { SoftwareAuthenticator } from './support/software-authenticator';

const PASSWORD = 'Revocation-Tests-Passphrase-27';
const NEW_PASSWORD = 'Revocation-Changed-Passphrase-64';
const ONE_TIME_PASSWORD = 'Revocation-One-Time-Passphrase-93';
/** identity's default WebAuthn origin (the harness sets none). */
const ORIGIN = 'http://localhost:8080';

/**
 * Access tokens end at once (docs/identity-tokens.md "Revocation"): identity writes `vivified_sessions` on a
 * deactivation, a password change or reset, an MFA reset, a role change, a user turning its TOTP off or removing a
 * passkey, and a log out everywhere; the policy sidecar on every handler refuses the user's older tokens within a
 * second. Real NATS and PostgreSQL.
 */
describe('session revocation on identity', () => {
  let identity: IdentityHarness;
  let sessions: KV;
  let admin: string;
  /** Rita's token from before her deactivation. */
  let ritaBefore: string;
  let auditSub: Subscription;
  const audit: AuditSeen[] = [];

  const login = (username: string, password: string): Promise<LoginReply> =>
    identity.client.request(subjects.identity.auth.login, { username, password });
  const me = (token: string) => identity.client.request(subjects.identity.auth.me, {}, { token });
  const roles = (token: string) => identity.client.request(subjects.identity.roles.list, {}, { token });
  const update = (body: { id: string; active?: boolean }) =>
    identity.client.request(subjects.identity.users.update, body, { token: admin });

  /** The refusal of `token` for token_revoked, waited for up to a second after the change. */
  async function revokedWithinASecond(
    token: string,
    call: (token: string) => Promise<unknown> = me,
  ): Promise<number> {
    const started = Date.now();
    await waitFor(
      () =>
        call(token).then(
          () => undefined,
          (error: unknown) =>
            (error as { code?: string; reason?: string }).code === ErrorCode.Unauthenticated &&
            (error as { reason?: string }).reason === 'token_revoked',
        ),
      { what: 'the old access token to be refused', timeoutMs: 1_000, intervalMs: 20 },
    );

    return Date.now() - started;
  }

  async function entryOf(userId: string): Promise<SessionRevocationEntry | undefined> {
    const entry = await sessions.get(sessionRevocationKey(userId));

    return entry?.operation === 'PUT' ? entry.json<SessionRevocationEntry>() : undefined;
  }

  async function createUser(username: string, userRoles = ['viewer']): Promise<UserView> {
    return identity.client.request(
      subjects.identity.users.create,
      { username, password: PASSWORD, roles: userRoles },
      { token: admin },
    );
  }

  async function accessToken(username: string, password = PASSWORD): Promise<string> {
    const reply = await login(username, password);
    expect(reply.accessToken).toBeDefined();

    return reply.accessToken as string;
  }

  /** A session of a password login: its access and refresh tokens. */
  async function session(username: string): Promise<TokenPair> {
    const reply = await login(username, PASSWORD);
    expect(reply.refreshToken).toBeDefined();

    return reply as TokenPair;
  }

  const refresh = (refreshToken: string) =>
    identity.client.request(subjects.identity.auth.refresh, { refreshToken });

  /** Every token of the sessions from before: access tokens `token_revoked`, refresh tokens `session_revoked`. */
  async function allRefused(before: TokenPair[], validAfter: number): Promise<void> {
    for (const pair of before) {
      expect(decodeJwt(pair.accessToken).iat).toBeLessThan(validAfter);
      expect(await revokedWithinASecond(pair.accessToken)).toBeLessThan(1_000);
      expect(await revokedWithinASecond(pair.accessToken, roles)).toBeLessThan(1_000);
      expect(await rejection(refresh(pair.refreshToken))).toMatchObject({
        code: ErrorCode.Unauthenticated,
        reason: 'session_revoked',
      });
    }
  }

  beforeAll(async () => {
    identity = await startIdentity();
    await ensureStream(await identity.nc.jetstreamManager(), streams.audit);
    ({ accessToken: admin } = await enrolAtFirstLogin(
      identity.client,
      'admin',
      identity.env['VIVIFIED_ADMIN_PASSWORD'] ?? '',
    ));
    // identity created the bucket at start (it owns it); the test reads what identity wrote
    sessions = await ensureBucket(identity.nc, buckets.sessions);
    auditSub = collectAudit(identity.nc, audit);
  }, 60_000);

  afterAll(async () => {
    auditSub?.unsubscribe();
    await identity?.stop();
  });

  it("refuses a deactivated user's existing access token within a second, at every handler", async () => {
    const rita = await createUser('rita');
    const token = await accessToken('rita');
    ritaBefore = token;
    await expect(me(token)).resolves.toMatchObject({ id: rita.id });
    await expect(roles(token)).resolves.toBeDefined();

    await update({ id: rita.id, active: false });

    expect(await revokedWithinASecond(token, roles)).toBeLessThan(1_000);
    expect((await rejection(me(token))).reason).toBe('token_revoked');
    expect(await entryOf(rita.id)).toMatchObject({ active: false });
  });

  it('lets a reactivated user log in again, and keeps the tokens from before the deactivation refused', async () => {
    const rita = (
      await identity.client.request(subjects.identity.users.list, {}, { token: admin })
    ).users.find((user) => user.username === 'rita') as UserView;
    const before = (await entryOf(rita.id)) as SessionRevocationEntry;

    await update({ id: rita.id, active: true });
    await update({ id: rita.id, active: true });
    const token = await accessToken('rita');

    // the sidecar follows the bucket within milliseconds
    await expect(
      waitFor(() => me(token).catch(() => undefined), { what: 'the new token to work', timeoutMs: 1_000 }),
    ).resolves.toMatchObject({ id: rita.id });
    expect((await rejection(me(ritaBefore))).reason).toBe('token_revoked');
    expect(await entryOf(rita.id)).toEqual({ active: true, validAfter: before.validAfter });
  });

  it('refuses the old token after a password change and serves the token of the login right after it', async () => {
    const sam = await createUser('sam');
    const old = await accessToken('sam');
    await expect(me(old)).resolves.toMatchObject({ id: sam.id });

    await identity.client.request(
      subjects.identity.auth.changePassword,
      { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      { token: old },
    );
    const fresh = await accessToken('sam', NEW_PASSWORD);

    expect(await revokedWithinASecond(old)).toBeLessThan(1_000);
    await expect(me(fresh)).resolves.toMatchObject({ id: sam.id });
    const { validAfter } = (await entryOf(sam.id)) as SessionRevocationEntry;
    expect(decodeJwt(fresh).iat).toBeGreaterThanOrEqual(validAfter);
    expect(decodeJwt(old).iat).toBeLessThan(validAfter);
  });

  it('serves the tokens a required password change answers at once, and refuses the older ones', async () => {
    const tia = await createUser('tia');
    const old = await accessToken('tia');
    await identity.client.request(
      subjects.identity.users.passwordReset,
      { id: tia.id, password: ONE_TIME_PASSWORD },
      { token: admin },
    );
    expect(await revokedWithinASecond(old)).toBeLessThan(1_000);
    const { passwordChangeToken } = await login('tia', ONE_TIME_PASSWORD);

    const changed = await identity.client.request(subjects.identity.auth.requiredPasswordChange, {
      passwordChangeToken: passwordChangeToken as string,
      newPassword: NEW_PASSWORD,
    });

    const fresh = changed.accessToken as string;
    const { validAfter } = (await entryOf(tia.id)) as SessionRevocationEntry;
    expect(decodeJwt(fresh).iat).toBeGreaterThanOrEqual(validAfter);
    expect(decodeJwt(old).iat).toBeLessThan(validAfter);
    await expect(me(fresh)).resolves.toMatchObject({ id: tia.id });
    expect((await rejection(me(old))).reason).toBe('token_revoked');
  });

  it('refuses the old token after a role change: its traits are stale; a new login carries the new ones', async () => {
    const uma = await createUser('uma');
    const old = await accessToken('uma');
    await expect(me(old)).resolves.toMatchObject({ id: uma.id });

    await identity.client.request(
      subjects.identity.users.setRoles,
      { id: uma.id, roles: ['viewer', 'developer'] },
      { token: admin },
    );

    expect(await revokedWithinASecond(old)).toBeLessThan(1_000);
    const fresh = await accessToken('uma');
    expect(decodeJwt(fresh).traits).toContain('developer');
    await expect(me(fresh)).resolves.toMatchObject({ id: uma.id });
  });

  it('refuses the old token after an admin MFA reset', async () => {
    const vic = await createUser('vic');
    const old = await accessToken('vic');

    await identity.client.request(subjects.identity.users.mfaReset, { id: vic.id }, { token: admin });

    expect(await revokedWithinASecond(old)).toBeLessThan(1_000);
    await expect(me(await accessToken('vic'))).resolves.toMatchObject({ id: vic.id });
  });

  it('signs a user out everywhere who turns its TOTP off: older access and refresh tokens are refused', async () => {
    const yara = await createUser('yara');
    const before = [await session('yara'), await session('yara')];
    const [asked] = before as [TokenPair, TokenPair];
    const setup = await identity.client.request(
      subjects.identity.mfa.totpSetup,
      {},
      { token: asked.accessToken },
    );
    const authenticator = new TestAuthenticator(setup.secret);
    await identity.client.request(
      subjects.identity.mfa.totpEnable,
      { code: await authenticator.nextCode() },
      { token: asked.accessToken },
    );

    const off = await identity.client.request(
      subjects.identity.mfa.totpDisable,
      { code: await authenticator.nextCode() },
      { token: asked.accessToken },
    );

    // no new tokens: like a password change, the caller signs in again
    expect(off).toEqual({ disabled: true, sessionsEnded: 2 });
    const { validAfter } = (await entryOf(yara.id)) as SessionRevocationEntry;
    await allRefused(before, validAfter);
    const fresh = await session('yara');
    expect(decodeJwt(fresh.accessToken).iat).toBeGreaterThanOrEqual(validAfter);
    await expect(me(fresh.accessToken)).resolves.toMatchObject({ id: yara.id, mfaEnrolled: false });
    await expect(refresh(fresh.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    const record = await waitFor(
      () => audit.find((entry) => entry.action === 'mfa.totp.disable' && entry.target === `user:${yara.id}`),
      { what: 'the mfa.totp.disable audit record' },
    );
    expect(record).toMatchObject({
      outcome: 'success',
      details: { reason: 'totp_disabled', sessionsEnded: 2 },
    });
  });

  it('signs a user out everywhere who removes a passkey: older access and refresh tokens are refused', async () => {
    const zeno = await createUser('zeno');
    const password = await session('zeno');
    const laptop = new SoftwareAuthenticator({ origin: ORIGIN });
    const phone = new SoftwareAuthenticator({ origin: ORIGIN });
    const passkeyIds: string[] = [];
    for (const authenticator of [laptop, phone]) {
      const { ceremonyId, publicKey } = await identity.client.request(
        subjects.identity.webauthn.registerOptions,
        {},
        { token: password.accessToken },
      );
      const summary = await identity.client.request(
        subjects.identity.webauthn.registerVerify,
        { ceremonyId, credential: authenticator.create(publicKey) },
        { token: password.accessToken },
      );
      passkeyIds.push(summary.id);
    }
    const passkeyLogin = async (authenticator: SoftwareAuthenticator): Promise<TokenPair> => {
      const { ceremonyId, publicKey } = await identity.client.request(
        subjects.identity.webauthn.loginOptions,
        {
          username: 'zeno',
        },
      );
      const reply = await identity.client.request(subjects.identity.webauthn.loginVerify, {
        ceremonyId,
        credential: authenticator.get(publicKey),
      });
      expect(reply.refreshToken).toBeDefined();

      return reply as TokenPair;
    };
    const viaPhone = await passkeyLogin(phone);
    const before = [password, viaPhone];

    // the phone's own session removes the phone
    const removed = await identity.client.request(
      subjects.identity.webauthn.removeCredential,
      { id: passkeyIds[1] },
      { token: viaPhone.accessToken },
    );

    expect(removed).toEqual({ id: passkeyIds[1], sessionsEnded: 2 });
    const { validAfter } = (await entryOf(zeno.id)) as SessionRevocationEntry;
    await allRefused(before, validAfter);
    const fresh = await passkeyLogin(laptop);
    expect(decodeJwt(fresh.accessToken).iat).toBeGreaterThanOrEqual(validAfter);
    await expect(me(fresh.accessToken)).resolves.toMatchObject({ id: zeno.id });
    const record = await waitFor(
      () => audit.find((entry) => entry.action === 'webauthn.remove' && entry.target === `user:${zeno.id}`),
      { what: 'the webauthn.remove audit record' },
    );
    expect(record).toMatchObject({
      outcome: 'success',
      details: { passkeyId: passkeyIds[1], reason: 'passkey_removed', sessionsEnded: 2 },
    });
  });

  it('logs a user out everywhere: both sessions end, access and refresh, and a new login works', async () => {
    const abe = await createUser('abe');
    const asked = await session('abe');
    const before = [asked, await session('abe')];

    const reply = await identity.client.request(
      subjects.identity.auth.logoutAll,
      {},
      { token: asked.accessToken },
    );

    expect(reply).toEqual({ sessionsEnded: 2 });
    const { validAfter } = (await entryOf(abe.id)) as SessionRevocationEntry;
    await allRefused(before, validAfter);
    const fresh = await session('abe');
    await expect(me(fresh.accessToken)).resolves.toMatchObject({ id: abe.id });
    await expect(refresh(fresh.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    const record = await waitFor(
      () => audit.find((entry) => entry.action === 'session.logout_all' && entry.target === `user:${abe.id}`),
      { what: 'the session.logout_all audit record' },
    );
    expect(record).toMatchObject({ outcome: 'success', details: { reason: 'logout_all', sessionsEnded: 2 } });
    // without a token there is nobody to log out
    expect((await rejection(identity.client.request(subjects.identity.auth.logoutAll, {}))).code).toBe(
      ErrorCode.Unauthenticated,
    );
  });

  it('refuses TOTP setup and enable to an access token revoked by log out everywhere; a new login enrols', async () => {
    const cleo = await createUser('cleo');
    const old = await session('cleo');
    const setup = (token: string) => identity.client.request(subjects.identity.mfa.totpSetup, {}, { token });
    // the old token could enrol: a pending secret its holder knows
    const pending = new TestAuthenticator((await setup(old.accessToken)).secret);

    await identity.client.request(subjects.identity.auth.logoutAll, {}, { token: old.accessToken });

    // public contracts pass no guard: identity refuses the revoked token itself, as the sidecar does
    expect(await revokedWithinASecond(old.accessToken, setup)).toBeLessThan(1_000);
    expect(
      await rejection(
        identity.client.request(
          subjects.identity.mfa.totpEnable,
          { code: await pending.nextCode() },
          { token: old.accessToken },
        ),
      ),
    ).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'token_revoked' });
    const fresh = await session('cleo');
    await expect(me(fresh.accessToken)).resolves.toMatchObject({ id: cleo.id, mfaEnrolled: false });
    const record = await waitFor(
      () =>
        audit.find(
          (entry) =>
            entry.action === 'policy.decide' &&
            entry.actor.id === `user:${cleo.id}` &&
            entry.details['action'] === 'mfa.totp.enable',
        ),
      { what: 'the policy.decide deny of the revoked token' },
    );
    expect(record).toMatchObject({
      category: 'policy',
      outcome: 'denied',
      details: {
        effect: 'deny',
        ruleId: 'user_token_revoked',
        reason: 'token_revoked',
        subject: subjects.identity.mfa.totpEnable,
      },
    });

    const authenticator = new TestAuthenticator((await setup(fresh.accessToken)).secret);
    const enabled = await identity.client.request(
      subjects.identity.mfa.totpEnable,
      { code: await authenticator.nextCode() },
      { token: fresh.accessToken },
    );

    expect(enabled.backupCodes).toHaveLength(10);
    await expect(me(fresh.accessToken)).resolves.toMatchObject({ id: cleo.id, mfaEnrolled: true });
  });

  it('refuses TOTP setup to an access token from before a password change; the new login may set it up', async () => {
    await createUser('dov');
    const old = await accessToken('dov');
    const setup = (token: string) => identity.client.request(subjects.identity.mfa.totpSetup, {}, { token });

    await identity.client.request(
      subjects.identity.auth.changePassword,
      { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      { token: old },
    );

    expect(await revokedWithinASecond(old, setup)).toBeLessThan(1_000);
    const fresh = await setup(await accessToken('dov', NEW_PASSWORD));
    expect(fresh.otpauthUrl).toContain(fresh.secret);
  });

  it('does not deactivate when the revocation cannot be published: UNAVAILABLE, and the user stays active', async () => {
    const wes = await createUser('wes');
    const token = await accessToken('wes');
    const jsm = await identity.nc.jetstreamManager();
    await jsm.streams.delete(`KV_${buckets.sessions.name}`);
    try {
      const error = await rejection(update({ id: wes.id, active: false }));

      expect(error.code).toBe(ErrorCode.Unavailable);
      expect(error.reason).toBe('revocation_unavailable');
      const after = await identity.client.request(
        subjects.identity.users.get,
        { id: wes.id },
        { token: admin },
      );
      expect(after.active).toBe(true);
      // nothing pretends the user is gone: it still works, as the error told the admin
      await expect(me(token)).resolves.toMatchObject({ id: wes.id });
    } finally {
      sessions = await ensureBucket(identity.nc, buckets.sessions);
    }

    // once the bucket is back the deactivation goes through
    await update({ id: wes.id, active: false });
    expect(await entryOf(wes.id)).toMatchObject({ active: false });
  }, 30_000);
});
