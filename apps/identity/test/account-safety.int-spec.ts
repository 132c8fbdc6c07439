import type { LoginReply, PasskeyLoginReply, UserView } from '@vivified/contracts';
import { ErrorCode, streams, subjects } from '@vivified/contracts';
import { ensureStream } from '@vivified/nats-transport';
import { waitFor } from '@vivified/testing';
import { decodeJwt } from 'jose';
import type { Subscription } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuditSeen } from './accounts-support';
import { collectAudit, rejection, TestAuthenticator } from './accounts-support';
import type { IdentityHarness } from './harness';
import { startIdentity } from './harness';
import { SoftwareAuthenticator } from './support/software-authenticator';

const PASSWORD = 'Safety-Tests-Passphrase-31';
const NEW_PASSWORD = 'Safety-Changed-Passphrase-58';
const ORIGIN = 'http://localhost:8080';

/**
 * Account safety (docs/identity.md "Required password change", "Admin resets", "Passkeys"): a one-time password
 * must be changed before any token, password first and MFA second; admins reset another user's password or MFA;
 * a passkey login honours the same lockout, deactivation and must-change rules as a password login. Real NATS and
 * PostgreSQL.
 */
describe('account safety on identity', () => {
  let identity: IdentityHarness;
  let pg: Client;
  let auditSub: Subscription;
  const audit: AuditSeen[] = [];
  const rawAudit: string[] = [];
  let admin: string;
  let adminId: string;

  const login = (body: { username: string; password: string; totp?: string }): Promise<LoginReply> =>
    identity.client.request(subjects.identity.auth.login, body);

  const changeRequired = (passwordChangeToken: string, newPassword: string): Promise<LoginReply> =>
    identity.client.request(subjects.identity.auth.requiredPasswordChange, {
      passwordChangeToken,
      newPassword,
      ip: '192.0.2.44',
    });

  const me = (token: string | undefined) =>
    identity.client.request(subjects.identity.auth.me, {}, { token: token as string });

  async function createUser(
    username: string,
    options: { roles?: string[]; mustChangePassword?: boolean } = {},
  ): Promise<UserView> {
    return identity.client.request(
      subjects.identity.users.create,
      { username, password: PASSWORD, roles: options.roles ?? ['viewer'], ...options },
      { token: admin },
    );
  }

  async function enrol(enrollmentToken: string): Promise<{ reply: LoginReply; auth: TestAuthenticator }> {
    const { secret } = await identity.client.request(subjects.identity.mfa.totpSetup, { enrollmentToken });
    const auth = new TestAuthenticator(secret);
    const reply = await identity.client.request(subjects.identity.mfa.totpEnable, {
      enrollmentToken,
      code: await auth.nextCode(),
    });

    return { reply, auth };
  }

  const passwordReset = (id: string, body: { password?: string } = {}, token = admin) =>
    identity.client.request(subjects.identity.users.passwordReset, { id, ...body }, { token });

  const mfaReset = (id: string, body: { passkeys?: boolean } = {}, token = admin) =>
    identity.client.request(subjects.identity.users.mfaReset, { id, ...body }, { token });

  async function registerPasskey(token: string, authenticator: SoftwareAuthenticator): Promise<string> {
    const { ceremonyId, publicKey } = await identity.client.request(
      subjects.identity.webauthn.registerOptions,
      {},
      { token },
    );
    const summary = await identity.client.request(
      subjects.identity.webauthn.registerVerify,
      { ceremonyId, credential: authenticator.create(publicKey), label: 'safety key' },
      { token },
    );

    return summary.id;
  }

  /** A passkey login, with a username or (undefined) without one, as a discoverable passkey logs in. */
  async function passkeyLogin(
    username: string | undefined,
    authenticator: SoftwareAuthenticator,
  ): Promise<PasskeyLoginReply> {
    const { ceremonyId, publicKey } = await identity.client.request(
      subjects.identity.webauthn.loginOptions,
      username === undefined ? {} : { username },
    );

    return identity.client.request(subjects.identity.webauthn.loginVerify, {
      ceremonyId,
      credential: authenticator.get(publicKey),
    });
  }

  async function failLogins(username: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      await rejection(login({ username, password: 'Not-The-Password-000' }));
    }
  }

  const audits = (action: string, target?: string) =>
    audit.filter((record) => record.action === action && (!target || record.target === target));

  beforeAll(async () => {
    identity = await startIdentity();
    await ensureStream(await identity.nc.jetstreamManager(), streams.audit);
    auditSub = collectAudit(identity.nc, audit, rawAudit);
    pg = new Client({ connectionString: identity.db.url, options: '-c search_path=identity,public' });
    await pg.connect();

    const first = await login({ username: 'admin', password: identity.env['VIVIFIED_ADMIN_PASSWORD'] ?? '' });
    admin = (await enrol(first.enrollmentToken as string)).reply.accessToken as string;
    adminId = (await me(admin)).id;
  }, 60_000);

  afterAll(async () => {
    auditSub?.unsubscribe();
    await pg?.end().catch(() => undefined);
    await identity?.stop();
  });

  describe('a required password change', () => {
    it('answers a password-change token and no tokens; the change opens the session and clears the flag', async () => {
      const mia = await createUser('mia', { mustChangePassword: true });
      expect(mia.mustChangePassword).toBe(true);

      const first = await login({ username: 'mia', password: PASSWORD });
      expect(Object.keys(first).sort()).toEqual(['passwordChangeRequired', 'passwordChangeToken']);
      const token = first.passwordChangeToken as string;
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({
        sub: `user:${mia.id}`,
        aud: 'urn:vivified:password-change',
        traits: [],
        amr: ['password'],
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);

      // the token opens nothing else: not an access token, not an enrolment token
      expect((await rejection(me(token))).code).toBe(ErrorCode.Unauthenticated);
      const asEnrollment = await rejection(
        identity.client.request(subjects.identity.mfa.totpSetup, { enrollmentToken: token }),
      );
      expect(asEnrollment.code).toBe(ErrorCode.Unauthenticated);
      // and no other token opens the change
      const withAccess = await rejection(changeRequired(admin, NEW_PASSWORD));
      expect(withAccess).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'token_invalid' });

      // the policy applies, and the one-time password cannot be kept
      const weak = await rejection(changeRequired(token, 'short'));
      expect(weak.code).toBe(ErrorCode.ValidationFailed);
      const same = await rejection(changeRequired(token, PASSWORD));
      expect(same).toMatchObject({ code: ErrorCode.ValidationFailed, reason: 'password_unchanged' });

      const changed = await changeRequired(token, NEW_PASSWORD);
      expect(changed.tokenType).toBe('Bearer');
      expect(changed.accessToken).toEqual(expect.any(String));
      expect(changed.refreshToken).toEqual(expect.any(String));
      expect(await me(changed.accessToken)).toMatchObject({ username: 'mia', mustChangePassword: false });

      // once: the same token cannot set another password
      const again = await rejection(changeRequired(token, 'Safety-Third-Passphrase-77'));
      expect(again).toMatchObject({
        code: ErrorCode.Unauthenticated,
        reason: 'password_change_not_required',
      });

      await rejection(login({ username: 'mia', password: PASSWORD }));
      const next = await login({ username: 'mia', password: NEW_PASSWORD });
      expect(next.accessToken).toEqual(expect.any(String));

      const { rows } = await pg.query<{ method: string }>(
        'SELECT method FROM sessions WHERE user_id = $1 ORDER BY created_at',
        [mia.id],
      );
      expect(rows.map((row) => row.method)).toEqual(['password', 'password']);
      await waitFor(() => audits('login', `user:${mia.id}`).length >= 3);
      expect(audits('login', `user:${mia.id}`).map((record) => record.details['reason'])).toEqual(
        expect.arrayContaining(['password_change_required', 'ok']),
      );
      expect(
        audits('password.change', `user:${mia.id}`).map((record) => [record.outcome, record.details]),
      ).toEqual([
        ['success', { via: 'password_change_token', sessionsEnded: 0 }],
        ['failure', { via: 'password_change_token', reason: 'password_change_not_required' }],
      ]);
    });

    it('comes before MFA enrolment: password first, then TOTP, then tokens', async () => {
      const nora = await createUser('nora', { roles: ['phi_handler'], mustChangePassword: true });

      const first = await login({ username: 'nora', password: PASSWORD });
      expect(Object.keys(first).sort()).toEqual(['passwordChangeRequired', 'passwordChangeToken']);

      const changed = await changeRequired(first.passwordChangeToken as string, NEW_PASSWORD);
      expect(Object.keys(changed).sort()).toEqual(['enrollmentToken', 'mfaEnrollmentRequired']);

      const { reply } = await enrol(changed.enrollmentToken as string);
      expect(reply.accessToken).toEqual(expect.any(String));
      expect(await me(reply.accessToken)).toMatchObject({
        id: nora.id,
        mfaEnrolled: true,
        mustChangePassword: false,
      });
    });

    it('asks an enrolled user for its code before the change, and keeps the method of that login', async () => {
      const olga = await createUser('olga', { roles: ['phi_handler'] });
      const first = await login({ username: 'olga', password: PASSWORD });
      const { auth } = await enrol(first.enrollmentToken as string);
      await passwordReset(olga.id, { password: 'Olga-One-Time-Passphrase-1' });

      // the one-time password alone gets nothing: the second factor comes first
      const withoutCode = await login({ username: 'olga', password: 'Olga-One-Time-Passphrase-1' });
      expect(withoutCode).toEqual({ mfaRequired: true });
      const withCode = await login({
        username: 'olga',
        password: 'Olga-One-Time-Passphrase-1',
        totp: await auth.nextCode(),
      });
      expect(Object.keys(withCode).sort()).toEqual(['passwordChangeRequired', 'passwordChangeToken']);
      expect(decodeJwt(withCode.passwordChangeToken as string)['amr']).toEqual(['password+totp']);

      const changed = await changeRequired(withCode.passwordChangeToken as string, NEW_PASSWORD);
      expect(changed.accessToken).toEqual(expect.any(String));
      const { rows } = await pg.query<{ method: string }>(
        'SELECT method FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        [olga.id],
      );
      expect(rows.map((row) => row.method)).toEqual(['password+totp']);
    });

    it('refuses an enrolment token issued before an admin reset', async () => {
      const pia = await createUser('pia', { roles: ['phi_handler'] });
      const first = await login({ username: 'pia', password: PASSWORD });
      await passwordReset(pia.id);

      const setup = await rejection(
        identity.client.request(subjects.identity.mfa.totpSetup, {
          enrollmentToken: first.enrollmentToken,
        }),
      );
      expect(setup).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'password_change_required' });
    });
  });

  describe('admin resets', () => {
    it('a password reset sets a one-time password, ends every session, lifts the lockout, and says so once', async () => {
      const quinn = await createUser('quinn');
      const session = await login({ username: 'quinn', password: PASSWORD });
      await failLogins('quinn', 5);
      const locked = await identity.client.request(
        subjects.identity.users.get,
        { id: quinn.id },
        { token: admin },
      );
      expect(locked.lockedUntil).toEqual(expect.any(String));

      const reset = await passwordReset(quinn.id);
      expect(reset.oneTimePassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(reset.sessionsEnded).toBe(1);
      expect(reset.user).toMatchObject({ id: quinn.id, mustChangePassword: true });
      expect(reset.user.lockedUntil).toBeUndefined();

      const refresh = await rejection(
        identity.client.request(subjects.identity.auth.refresh, {
          refreshToken: session.refreshToken as string,
        }),
      );
      expect(refresh.code).toBe(ErrorCode.Unauthenticated);
      await rejection(login({ username: 'quinn', password: PASSWORD }));
      const next = await login({ username: 'quinn', password: reset.oneTimePassword as string });
      expect(next.passwordChangeRequired).toBe(true);
      const changed = await changeRequired(next.passwordChangeToken as string, NEW_PASSWORD);
      expect(changed.accessToken).toEqual(expect.any(String));

      // a given password must pass the policy, and is not answered back
      const weak = await rejection(passwordReset(quinn.id, { password: 'quinn' }));
      expect(weak.code).toBe(ErrorCode.ValidationFailed);
      const given = await passwordReset(quinn.id, { password: 'Quinn-Given-Passphrase-5' });
      expect(given).not.toHaveProperty('oneTimePassword');
      expect(given.sessionsEnded).toBe(1);

      await waitFor(() => audits('user.password.reset', `user:${quinn.id}`).length === 2);
      const resets = audits('user.password.reset', `user:${quinn.id}`);
      expect(resets.map((record) => [record.category, record.outcome, record.actor.id])).toEqual([
        ['user', 'success', `user:${adminId}`],
        ['user', 'success', `user:${adminId}`],
      ]);
      expect(resets.map((record) => record.details)).toEqual([
        { generated: true, sessionsEnded: 1, lockoutCleared: true },
        { generated: false, sessionsEnded: 1, lockoutCleared: true },
      ]);
      // no password in any record
      for (const secret of [reset.oneTimePassword as string, 'Quinn-Given-Passphrase-5', NEW_PASSWORD]) {
        expect(rawAudit.join('\n')).not.toContain(secret);
      }
    });

    it('an MFA reset removes TOTP and backup codes (passkeys on request): the role enrols again', async () => {
      const rita = await createUser('rita', { roles: ['phi_handler'] });
      const first = await login({ username: 'rita', password: PASSWORD });
      const { reply, auth } = await enrol(first.enrollmentToken as string);
      const key = new SoftwareAuthenticator({ origin: ORIGIN });
      await registerPasskey(reply.accessToken as string, key);

      const reset = await mfaReset(rita.id);
      expect(reset).toMatchObject({
        totpRemoved: true,
        backupCodesRemoved: 10,
        passkeysRemoved: 0,
        sessionsEnded: 1,
        user: { id: rita.id, mfaEnrolled: false },
      });
      await rejection(
        identity.client.request(subjects.identity.auth.refresh, {
          refreshToken: reply.refreshToken as string,
        }),
      );
      // the old code is no longer asked for: the role needs MFA, so the login enrols again
      const again = await login({ username: 'rita', password: PASSWORD, totp: await auth.nextCode() });
      expect(Object.keys(again).sort()).toEqual(['enrollmentToken', 'mfaEnrollmentRequired']);
      // the passkey stayed
      expect((await passkeyLogin('rita', key)).accessToken).toEqual(expect.any(String));

      const withPasskeys = await mfaReset(rita.id, { passkeys: true });
      expect(withPasskeys).toMatchObject({ totpRemoved: false, backupCodesRemoved: 0, passkeysRemoved: 1 });
      // without a username: the authenticator still holds the passkey identity no longer knows
      const gone = await rejection(passkeyLogin(undefined, key));
      expect(gone.code).toBe(ErrorCode.Unauthenticated);

      await waitFor(() => audits('user.mfa.reset', `user:${rita.id}`).length === 2);
      expect(audits('user.mfa.reset', `user:${rita.id}`)[0]).toMatchObject({
        category: 'user',
        outcome: 'success',
        details: {
          totpRemoved: true,
          recoveryCodesRemoved: 10,
          passkeysRemoved: 0,
          passkeysRequested: false,
        },
      });
    });

    it('refuses the caller’s own account, non-admins and unknown users', async () => {
      const self = await rejection(passwordReset(adminId));
      expect(self).toMatchObject({ code: ErrorCode.Conflict, reason: 'self_reset' });
      const selfMfa = await rejection(mfaReset(adminId));
      expect(selfMfa).toMatchObject({ code: ErrorCode.Conflict, reason: 'self_reset' });
      expect(await me(admin)).toMatchObject({ mfaEnrolled: true, mustChangePassword: false });

      const sam = await createUser('sam');
      const viewer = (await login({ username: 'sam', password: PASSWORD })).accessToken as string;
      const target = await createUser('tess');
      expect((await rejection(passwordReset(target.id, {}, viewer))).code).toBe(ErrorCode.PolicyDenied);
      expect((await rejection(mfaReset(target.id, {}, viewer))).code).toBe(ErrorCode.PolicyDenied);
      expect((await rejection(passwordReset(sam.id, {}, viewer))).code).toBe(ErrorCode.PolicyDenied);

      const nobody = '00000000-0000-4000-8000-00000000dead';
      expect((await rejection(passwordReset(nobody))).code).toBe(ErrorCode.NotFound);
      expect((await rejection(mfaReset(nobody))).code).toBe(ErrorCode.NotFound);

      await waitFor(() => audits('user.password.reset', `user:${adminId}`).length === 1);
      expect(audits('user.password.reset', `user:${adminId}`)[0]).toMatchObject({
        outcome: 'denied',
        details: { reason: 'self_reset' },
      });
    });
  });

  describe('passkey login honours the password login’s rules', () => {
    let uma: UserView;
    const key = new SoftwareAuthenticator({ origin: ORIGIN });

    beforeAll(async () => {
      uma = await createUser('uma');
      const session = await login({ username: 'uma', password: PASSWORD });
      await registerPasskey(session.accessToken as string, key);
    });

    it('refuses a locked account until an admin lifts the lock, and a complete passkey login clears counters', async () => {
      await failLogins('uma', 5);
      const refused = await rejection(passkeyLogin('uma', key));
      expect(refused).toMatchObject({ code: ErrorCode.Unauthenticated, message: 'invalid credentials' });
      await waitFor(() =>
        audits('webauthn.login', `user:${uma.id}`).some((record) => record.details['reason'] === 'locked'),
      );

      await identity.client.request(subjects.identity.users.unlock, { id: uma.id }, { token: admin });
      await failLogins('uma', 4);
      expect((await passkeyLogin('uma', key)).accessToken).toEqual(expect.any(String));
      // the passkey login started the count over: four more failures do not lock
      await failLogins('uma', 4);
      expect((await login({ username: 'uma', password: PASSWORD })).accessToken).toEqual(expect.any(String));
    });

    it('answers a password-change token, not tokens, to an account that must change its password', async () => {
      await passwordReset(uma.id);
      const reply = await passkeyLogin('uma', key);
      expect(Object.keys(reply).sort()).toEqual(['passwordChangeRequired', 'passwordChangeToken']);
      expect(decodeJwt(reply.passwordChangeToken as string)['amr']).toEqual(['webauthn']);

      const changed = await changeRequired(reply.passwordChangeToken as string, NEW_PASSWORD);
      expect(changed.accessToken).toEqual(expect.any(String));
      const { rows } = await pg.query<{ method: string }>(
        'SELECT method FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        [uma.id],
      );
      expect(rows.map((row) => row.method)).toEqual(['webauthn']);
      expect((await passkeyLogin('uma', key)).accessToken).toEqual(expect.any(String));
    });

    it('refuses an inactive account', async () => {
      await identity.client.request(
        subjects.identity.users.update,
        { id: uma.id, active: false },
        { token: admin },
      );
      // without a username (options for an inactive username carry a decoy): the passkey itself is refused
      const refused = await rejection(passkeyLogin(undefined, key));
      expect(refused).toMatchObject({ code: ErrorCode.Unauthenticated, message: 'invalid credentials' });
      await waitFor(() =>
        audits('webauthn.login', `user:${uma.id}`).some(
          (record) => record.details['reason'] === 'user_inactive',
        ),
      );
    });
  });
});
