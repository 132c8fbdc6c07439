import type { LoginReply, TokenPair, UserView } from '@vivified/contracts';
import { buckets, ErrorCode, sessionRevocationKey, streams, subjects } from '@vivified/contracts';
import { ensureBucket, ensureStream } from '@vivified/nats-transport';
import { waitFor } from '@vivified/testing';
import { decodeJwt } from 'jose';
import type { KV, Subscription } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuditSeen } from './accounts-support';
import { collectAudit, enrolAtFirstLogin, rejection, TestAuthenticator } from './accounts-support';
import type { IdentityHarness } from './harness';
import { startIdentity } from './harness';
import { SoftwareAuthenticator } from './support/software-authenticator';

const PASSWORD = 'Interactive-Tests-Passphrase-31';
const NEW_PASSWORD = 'Interactive-Changed-Passphrase-58';
/** identity's default WebAuthn origin (the harness sets none). */
const ORIGIN = 'http://localhost:8080';

/** A user with a password session and an access token exchanged for one of its API keys. */
interface Account {
  user: UserView;
  session: TokenPair;
  keyToken: string;
}

/**
 * Credential management needs an interactive session (docs/identity.md "Credential management needs an interactive
 * session"): a token exchanged for an API key reads (`me`) but is refused — `POLICY_DENIED`
 * `interactive_session_required`, audited — whatever it asks of the account's TOTP, backup codes, passkeys,
 * password or sessions, and nothing changes; the user's password session does the same. Real NATS and PostgreSQL.
 * API keys themselves: apps/identity/test/tokens-access.int-spec.ts.
 */
describe('credential management needs an interactive session', () => {
  let identity: IdentityHarness;
  let pg: Client;
  let sessions: KV;
  let admin: string;
  let auditSub: Subscription;
  const audit: AuditSeen[] = [];
  const rawAudit: string[] = [];

  const login = (body: {
    username: string;
    password: string;
    totp?: string;
    backupCode?: string;
  }): Promise<LoginReply> => identity.client.request(subjects.identity.auth.login, body);
  const me = (token: string) => identity.client.request(subjects.identity.auth.me, {}, { token });
  const refresh = (refreshToken: string) =>
    identity.client.request(subjects.identity.auth.refresh, { refreshToken });

  /** The refusal every credential action gives an API-key token. */
  async function expectInteractiveRequired(call: Promise<unknown>): Promise<void> {
    expect(await rejection(call)).toMatchObject({
      code: ErrorCode.PolicyDenied,
      reason: 'interactive_session_required',
    });
  }

  async function account(username: string): Promise<Account> {
    const user = await identity.client.request(
      subjects.identity.users.create,
      { username, password: PASSWORD, roles: ['viewer'] },
      { token: admin },
    );
    const session = (await login({ username, password: PASSWORD })) as TokenPair;
    const { apiKey } = await identity.client.request(
      subjects.identity.apiKeys.create,
      { name: 'automation', scopes: ['viewer'] },
      { token: session.accessToken },
    );
    const { accessToken: keyToken } = await identity.client.request(subjects.identity.tokens.apiKey, {
      apiKey,
    });

    return { user, session, keyToken };
  }

  /** The user's TOTP row: whether a secret is enabled and whether a setup is pending. */
  async function totpOf(userId: string): Promise<{ enabled: boolean; pending: boolean } | undefined> {
    const { rows } = await pg.query<{ enabled: boolean; pending: boolean }>(
      `SELECT secret_sealed IS NOT NULL AS enabled, pending_secret_sealed IS NOT NULL AS pending
         FROM user_totp WHERE user_id = $1`,
      [userId],
    );

    return rows[0];
  }

  async function openSessions(userId: string): Promise<number> {
    const { rows } = await pg.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );

    return rows[0]?.open ?? 0;
  }

  /** Enables TOTP with the password session: answers the authenticator app and the backup codes. */
  async function enableTotp(session: TokenPair): Promise<{ app: TestAuthenticator; backupCodes: string[] }> {
    const { secret } = await identity.client.request(
      subjects.identity.mfa.totpSetup,
      {},
      { token: session.accessToken },
    );
    const app = new TestAuthenticator(secret);
    const { backupCodes } = await identity.client.request(
      subjects.identity.mfa.totpEnable,
      { code: await app.nextCode() },
      { token: session.accessToken },
    );

    return { app, backupCodes };
  }

  /** The actions of the user refused for want of an interactive session, once `count` records have arrived. */
  async function deniedActions(userId: string, count: number): Promise<string[]> {
    const denied = () =>
      audit.filter(
        (record) =>
          record.target === `user:${userId}` &&
          record.outcome === 'denied' &&
          record.details['reason'] === 'interactive_session_required',
      );
    await waitFor(() => denied().length >= count, { what: `${count} denied audit records` });

    return denied().map((record) => record.action);
  }

  beforeAll(async () => {
    identity = await startIdentity();
    await ensureStream(await identity.nc.jetstreamManager(), streams.audit);
    auditSub = collectAudit(identity.nc, audit, rawAudit);
    pg = new Client({ connectionString: identity.db.url, options: '-c search_path=identity,public' });
    await pg.connect();
    sessions = await ensureBucket(identity.nc, buckets.sessions);
    ({ accessToken: admin } = await enrolAtFirstLogin(
      identity.client,
      'admin',
      identity.env['VIVIFIED_ADMIN_PASSWORD'] ?? '',
    ));
  }, 60_000);

  afterAll(async () => {
    auditSub?.unsubscribe();
    await pg?.end().catch(() => undefined);
    await identity?.stop();
  });

  it('tells the tokens apart by amr: the password session says password, the API-key token api_key', async () => {
    const { user, session, keyToken } = await account('ana');

    const sessionClaims = decodeJwt(session.accessToken);
    expect(sessionClaims['amr']).toEqual(['password']);
    expect(typeof sessionClaims['sid']).toBe('string');
    const claims = decodeJwt(keyToken);
    expect(claims['amr']).toEqual(['api_key']);
    expect(claims['sid']).toBeUndefined();
    // ordinary use goes on: the API-key token reads the profile
    await expect(me(keyToken)).resolves.toMatchObject({ id: user.id, username: 'ana' });
  });

  it('refuses TOTP setup and enable to an API-key token and stores nothing; the password session enables it', async () => {
    const { user, session, keyToken } = await account('ben');

    await expectInteractiveRequired(
      identity.client.request(subjects.identity.mfa.totpSetup, {}, { token: keyToken }),
    );
    expect(await totpOf(user.id)).toBeUndefined();
    // a setup the owner started is not the key's to confirm either
    const { secret } = await identity.client.request(
      subjects.identity.mfa.totpSetup,
      {},
      { token: session.accessToken },
    );
    const app = new TestAuthenticator(secret);
    const code = await app.nextCode();
    await expectInteractiveRequired(
      identity.client.request(subjects.identity.mfa.totpEnable, { code }, { token: keyToken }),
    );
    expect(await totpOf(user.id)).toEqual({ enabled: false, pending: true });

    // the code the key could not use is still good for the owner
    const enabled = await identity.client.request(
      subjects.identity.mfa.totpEnable,
      { code },
      { token: session.accessToken },
    );
    expect(enabled.backupCodes).toHaveLength(10);
    await expect(me(keyToken)).resolves.toMatchObject({ id: user.id, mfaEnrolled: true });
    expect(await deniedActions(user.id, 2)).toEqual(['mfa.totp.setup', 'mfa.totp.enable']);
  });

  it('refuses to turn TOTP off or replace the backup codes with an API-key token: TOTP stays on, codes and sessions stay', async () => {
    const { user, session, keyToken } = await account('cleo');
    const { app, backupCodes } = await enableTotp(session);

    const code = await app.nextCode();
    await expectInteractiveRequired(
      identity.client.request(subjects.identity.mfa.totpDisable, { code }, { token: keyToken }),
    );
    await expectInteractiveRequired(
      identity.client.request(subjects.identity.mfa.backupCodes, {}, { token: keyToken }),
    );

    expect(await totpOf(user.id)).toEqual({ enabled: true, pending: false });
    await expect(me(session.accessToken)).resolves.toMatchObject({ id: user.id, mfaEnrolled: true });
    expect(await openSessions(user.id)).toBe(1);
    expect(await sessions.get(sessionRevocationKey(user.id))).toBeNull();
    // the old backup codes still sign in: none was replaced
    const withBackup = await login({
      username: 'cleo',
      password: PASSWORD,
      backupCode: backupCodes[0],
    });
    expect(withBackup.accessToken).toEqual(expect.any(String));
    // and the owner's session does both
    const replaced = await identity.client.request(
      subjects.identity.mfa.backupCodes,
      {},
      { token: session.accessToken },
    );
    expect(replaced.backupCodes).toHaveLength(10);
    await expect(
      identity.client.request(subjects.identity.mfa.totpDisable, { code }, { token: session.accessToken }),
    ).resolves.toEqual({ disabled: true, sessionsEnded: 2 });
    expect(await deniedActions(user.id, 2)).toEqual(['mfa.totp.disable', 'mfa.backup-codes.regenerate']);
  });

  it('refuses to register or remove a passkey with an API-key token: the passkeys stay as they are', async () => {
    const { user, session, keyToken } = await account('dora');
    const laptop = new SoftwareAuthenticator({ origin: ORIGIN });
    const options = () =>
      identity.client.request(subjects.identity.webauthn.registerOptions, {}, { token: session.accessToken });
    const first = await options();
    const { id: passkeyId } = await identity.client.request(
      subjects.identity.webauthn.registerVerify,
      { ceremonyId: first.ceremonyId, credential: laptop.create(first.publicKey) },
      { token: session.accessToken },
    );

    await expectInteractiveRequired(
      identity.client.request(subjects.identity.webauthn.registerOptions, {}, { token: keyToken }),
    );
    // a ceremony the owner opened cannot be completed with the key either
    const second = await options();
    const phone = new SoftwareAuthenticator({ origin: ORIGIN });
    const phoneCredential = phone.create(second.publicKey);
    await expectInteractiveRequired(
      identity.client.request(
        subjects.identity.webauthn.registerVerify,
        { ceremonyId: second.ceremonyId, credential: phoneCredential },
        { token: keyToken },
      ),
    );
    await expectInteractiveRequired(
      identity.client.request(
        subjects.identity.webauthn.removeCredential,
        { id: passkeyId },
        { token: keyToken },
      ),
    );

    // listing is reading: the key may, and sees the one passkey, still there
    const listed = await identity.client.request(
      subjects.identity.webauthn.listCredentials,
      {},
      { token: keyToken },
    );
    expect(listed.credentials.map((passkey) => passkey.id)).toEqual([passkeyId]);
    expect(await openSessions(user.id)).toBe(1);
    // the refused verify did not spend the owner's ceremony
    const added = await identity.client.request(
      subjects.identity.webauthn.registerVerify,
      { ceremonyId: second.ceremonyId, credential: phoneCredential },
      { token: session.accessToken },
    );
    expect(added.id).not.toBe(passkeyId);
    await expect(
      identity.client.request(
        subjects.identity.webauthn.removeCredential,
        { id: passkeyId },
        { token: session.accessToken },
      ),
    ).resolves.toEqual({ id: passkeyId, sessionsEnded: 1 });
    expect(await deniedActions(user.id, 3)).toEqual([
      'webauthn.register',
      'webauthn.register',
      'webauthn.remove',
    ]);
  });

  it('refuses to change the password with an API-key token: the old password still signs in', async () => {
    const { user, session, keyToken } = await account('emil');

    await expectInteractiveRequired(
      identity.client.request(
        subjects.identity.auth.changePassword,
        { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
        { token: keyToken },
      ),
    );

    expect(await openSessions(user.id)).toBe(1);
    await expect(me(session.accessToken)).resolves.toMatchObject({ id: user.id });
    const again = await login({ username: 'emil', password: PASSWORD });
    expect(again.accessToken).toEqual(expect.any(String));
    expect(await rejection(login({ username: 'emil', password: NEW_PASSWORD }))).toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
    await expect(
      identity.client.request(
        subjects.identity.auth.changePassword,
        { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
        { token: session.accessToken },
      ),
    ).resolves.toEqual({ changed: true, sessionsEnded: 2 });
    expect(await deniedActions(user.id, 1)).toEqual(['password.change']);
  });

  it('refuses to log out everywhere with an API-key token: every session and access token lives on', async () => {
    const { user, session, keyToken } = await account('finn');
    const other = (await login({ username: 'finn', password: PASSWORD })) as TokenPair;

    await expectInteractiveRequired(
      identity.client.request(subjects.identity.auth.logoutAll, {}, { token: keyToken }),
    );

    expect(await openSessions(user.id)).toBe(2);
    expect(await sessions.get(sessionRevocationKey(user.id))).toBeNull();
    await expect(me(session.accessToken)).resolves.toMatchObject({ id: user.id });
    await expect(refresh(other.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    await expect(me(keyToken)).resolves.toMatchObject({ id: user.id });
    await expect(
      identity.client.request(subjects.identity.auth.logoutAll, {}, { token: session.accessToken }),
    ).resolves.toEqual({ sessionsEnded: 2 });
    expect(await deniedActions(user.id, 1)).toEqual(['session.logout_all']);
  });

  it('counts the session of a passkey login as interactive, also once refreshed', async () => {
    const { session } = await account('gus');
    const passkey = new SoftwareAuthenticator({ origin: ORIGIN });
    const registration = await identity.client.request(
      subjects.identity.webauthn.registerOptions,
      {},
      { token: session.accessToken },
    );
    await identity.client.request(
      subjects.identity.webauthn.registerVerify,
      { ceremonyId: registration.ceremonyId, credential: passkey.create(registration.publicKey) },
      { token: session.accessToken },
    );
    const { ceremonyId, publicKey } = await identity.client.request(subjects.identity.webauthn.loginOptions, {
      username: 'gus',
    });
    const viaPasskey = (await identity.client.request(subjects.identity.webauthn.loginVerify, {
      ceremonyId,
      credential: passkey.get(publicKey),
    })) as TokenPair;
    const refreshed = await refresh(viaPasskey.refreshToken);

    expect(decodeJwt(viaPasskey.accessToken)['amr']).toEqual(['webauthn']);
    expect(decodeJwt(refreshed.accessToken)['amr']).toEqual(['webauthn']);
    await expect(
      identity.client.request(subjects.identity.mfa.backupCodes, {}, { token: refreshed.accessToken }),
    ).rejects.toMatchObject({ reason: 'mfa_not_enrolled' });
  });

  it('refuses admin resets of another user to an admin API-key token, keeps provisioning; the admin session resets', async () => {
    const { user, session } = await account('ivy');
    const { app } = await enableTotp(session);
    const { apiKey } = await identity.client.request(
      subjects.identity.apiKeys.create,
      { name: 'provisioning', scopes: ['admin', 'user_manager'] },
      { token: admin },
    );
    const { accessToken: adminKey } = await identity.client.request(subjects.identity.tokens.apiKey, {
      apiKey,
    });
    const adminId = decodeJwt(admin).sub as string;

    await expectInteractiveRequired(
      identity.client.request(
        subjects.identity.users.mfaReset,
        { id: user.id, passkeys: true },
        { token: adminKey },
      ),
    );
    await expectInteractiveRequired(
      identity.client.request(subjects.identity.users.passwordReset, { id: user.id }, { token: adminKey }),
    );

    // nothing changed: the second factor stays, the sessions live on, the password still signs in
    expect(await totpOf(user.id)).toEqual({ enabled: true, pending: false });
    expect(await openSessions(user.id)).toBe(1);
    await expect(
      login({ username: 'ivy', password: PASSWORD, totp: await app.nextCode() }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
    const denied = await waitFor(
      () => {
        const found = audit.filter(
          (record) =>
            record.target === `user:${user.id}` &&
            record.details['reason'] === 'interactive_session_required',
        );

        return found.length >= 2 ? found : undefined;
      },
      { what: 'the two denied admin reset records' },
    );
    expect(denied.map((record) => [record.category, record.action, record.outcome, record.actor.id])).toEqual(
      [
        ['user', 'user.mfa.reset', 'denied', adminId],
        ['user', 'user.password.reset', 'denied', adminId],
      ],
    );
    // provisioning is what the key is for, and goes on
    await expect(
      identity.client.request(
        subjects.identity.users.update,
        { id: user.id, displayName: 'Ivy Provisioned' },
        { token: adminKey },
      ),
    ).resolves.toMatchObject({ id: user.id, displayName: 'Ivy Provisioned' });
    // the admin's own interactive session resets
    await expect(
      identity.client.request(subjects.identity.users.mfaReset, { id: user.id }, { token: admin }),
    ).resolves.toMatchObject({ totpRemoved: true, sessionsEnded: 2 });
    expect(await totpOf(user.id)).toBeUndefined();
  });

  it('audits every refusal in category auth with the token’s amr, never with a token in it', async () => {
    const { user, keyToken } = await account('hana');
    await expectInteractiveRequired(
      identity.client.request(subjects.identity.auth.logoutAll, {}, { token: keyToken }),
    );

    const record = await waitFor(
      () =>
        audit.find((entry) => entry.action === 'session.logout_all' && entry.target === `user:${user.id}`),
      { what: 'the denied session.logout_all record' },
    );
    expect(record).toMatchObject({
      category: 'auth',
      outcome: 'denied',
      details: { reason: 'interactive_session_required', amr: ['api_key'] },
    });
    expect(rawAudit.join('\n')).not.toContain(keyToken);
  });
});
