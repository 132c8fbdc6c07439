import type { LoginReply, TokenClaims, UserView } from '@vivified/contracts';
import {
  BACKUP_CODE_PATTERN,
  ErrorCode,
  loginRetryAfterSeconds,
  streams,
  subjects,
} from '@vivified/contracts';
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

const PASSWORD = 'Accounts-Tests-Passphrase-7';

describe('accounts on identity (password, lockout, TOTP, users)', () => {
  let identity: IdentityHarness;
  let pg: Client;
  let auditSub: Subscription;
  const audit: AuditSeen[] = [];
  const rawAudit: string[] = [];
  let adminAuth: TestAuthenticator;
  let adminBackupCodes: string[];
  let admin: string;
  let adminId: string;

  const login = (body: {
    username: string;
    password: string;
    totp?: string;
    backupCode?: string;
    ip?: string;
  }): Promise<LoginReply> => identity.client.request(subjects.identity.auth.login, body);

  const adminPassword = (): string => identity.env['VIVIFIED_ADMIN_PASSWORD'] ?? '';

  async function createUser(username: string, roles: string[] = ['viewer']): Promise<UserView> {
    return identity.client.request(
      subjects.identity.users.create,
      { username, password: PASSWORD, roles, email: `${username}@example.org` },
      { token: admin },
    );
  }

  async function tokensOf(username: string, password = PASSWORD): Promise<LoginReply> {
    const reply = await login({ username, password });
    expect(reply.accessToken).toBeTypeOf('string');

    return reply;
  }

  const claims = (token: string | undefined) => decodeJwt(token as string) as unknown as TokenClaims;

  const loginAudits = (target?: string) =>
    audit.filter(
      (record) =>
        record.category === 'auth' && record.action === 'login' && (!target || record.target === target),
    );

  beforeAll(async () => {
    identity = await startIdentity();
    // the audit service owns VIVIFIED_AUDIT; created here so the emitter stores records, which the test watches
    await ensureStream(await identity.nc.jetstreamManager(), streams.audit);
    auditSub = collectAudit(identity.nc, audit, rawAudit);
    pg = new Client({ connectionString: identity.db.url, options: '-c search_path=identity,public' });
    await pg.connect();
  });

  afterAll(async () => {
    auditSub?.unsubscribe();
    await pg?.end().catch(() => undefined);
    await identity?.stop();
  });

  it('enrols the first admin at first login: enrolment token → setup → enable → tokens and 10 backup codes', async () => {
    // the predecessor's admin could never log in because MFA was required and the login took no code
    const first = await login({ username: 'Admin', password: adminPassword() });
    expect(Object.keys(first).sort()).toEqual(['enrollmentToken', 'mfaEnrollmentRequired']);
    expect(first.mfaEnrollmentRequired).toBe(true);
    const enrollmentToken = first.enrollmentToken as string;
    expect(enrollmentToken.split('.')).toHaveLength(3);

    // the enrolment token opens nothing else
    const meWithIt = await rejection(
      identity.client.request(subjects.identity.auth.me, {}, { token: enrollmentToken }),
    );
    expect(meWithIt.code).toBe(ErrorCode.Unauthenticated);

    const setup = await identity.client.request(subjects.identity.mfa.totpSetup, { enrollmentToken });
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(setup.otpauthUrl);
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe('/Vivified:admin');
    expect(url.searchParams.get('issuer')).toBe('Vivified');
    adminAuth = new TestAuthenticator(setup.secret);

    const wrong = await rejection(
      identity.client.request(subjects.identity.mfa.totpEnable, {
        enrollmentToken,
        code: adminAuth.wrongCode(),
      }),
    );
    expect(wrong.code).toBe(ErrorCode.Unauthenticated);

    const enabled = await identity.client.request(subjects.identity.mfa.totpEnable, {
      enrollmentToken,
      code: await adminAuth.nextCode(),
      ip: '192.0.2.1',
    });
    expect(enabled.accessToken).toBeTypeOf('string');
    expect(enabled.refreshToken).toBeTypeOf('string');
    expect(enabled.tokenType).toBe('Bearer');
    expect(enabled.backupCodes).toHaveLength(10);
    expect(new Set(enabled.backupCodes).size).toBe(10);
    for (const code of enabled.backupCodes) {
      expect(code).toMatch(BACKUP_CODE_PATTERN);
    }
    admin = enabled.accessToken as string;
    adminBackupCodes = enabled.backupCodes;

    const me = await identity.client.request(subjects.identity.auth.me, {}, { token: admin });
    adminId = me.id;
    expect(me).toMatchObject({
      username: 'admin',
      roles: ['admin'],
      mfaEnrolled: true,
      mustChangePassword: false,
    });
    expect(me.traits).toEqual(expect.arrayContaining(['admin', 'user_manager', 'viewer', 'ui.users']));
    // admin is not a PHI key
    expect(me.traits).not.toContain('handles_phi');
    expect(claims(admin).traits).toEqual(me.traits);

    // once enrolled, the enrolment token cannot start another setup
    const again = await rejection(
      identity.client.request(subjects.identity.mfa.totpSetup, { enrollmentToken }),
    );
    expect(again.code).toBe(ErrorCode.Conflict);

    // the TOTP secret is sealed at rest
    const { rows } = await pg.query<{ secret_sealed: string }>(
      'SELECT secret_sealed FROM user_totp WHERE user_id = $1',
      [adminId],
    );
    expect(rows[0]?.secret_sealed).toMatch(/^v1\./);
    expect(rows[0]?.secret_sealed).not.toContain(setup.secret);
  });

  it('asks an enrolled user for a code, logs in with password + TOTP, and refuses the same code twice', async () => {
    expect(await login({ username: 'admin', password: adminPassword() })).toEqual({ mfaRequired: true });

    const code = await adminAuth.nextCode();
    const ok = await login({ username: 'admin', password: adminPassword(), totp: code });
    expect(ok.accessToken).toBeTypeOf('string');
    expect(claims(ok.accessToken).sub).toBe(`user:${adminId}`);

    const replay = await rejection(login({ username: 'admin', password: adminPassword(), totp: code }));
    expect(replay).toMatchObject({ code: ErrorCode.Unauthenticated, message: 'invalid credentials' });

    const wrongPassword = await rejection(
      login({ username: 'admin', password: 'Not-The-Password-1', totp: code }),
    );
    expect(wrongPassword).toMatchObject({ code: ErrorCode.Unauthenticated, message: 'invalid credentials' });
  });

  it('accepts a backup code once, and regenerated codes replace the old ones', async () => {
    const [first, second] = adminBackupCodes;
    const ok = await login({
      username: 'admin',
      password: adminPassword(),
      backupCode: first?.toUpperCase(),
    });
    expect(ok.accessToken).toBeTypeOf('string');

    const reused = await rejection(
      login({ username: 'admin', password: adminPassword(), backupCode: first }),
    );
    expect(reused).toMatchObject({ code: ErrorCode.Unauthenticated, message: 'invalid credentials' });

    const { backupCodes } = await identity.client.request(
      subjects.identity.mfa.backupCodes,
      {},
      { token: admin },
    );
    expect(backupCodes).toHaveLength(10);
    expect(backupCodes).not.toContain(second);

    const old = await rejection(login({ username: 'admin', password: adminPassword(), backupCode: second }));
    expect(old.code).toBe(ErrorCode.Unauthenticated);
    const fresh = await login({ username: 'admin', password: adminPassword(), backupCode: backupCodes[0] });
    expect(fresh.accessToken).toBeTypeOf('string');
    adminBackupCodes = backupCodes.slice(1);

    // an admin's role requires MFA: it cannot be turned off
    const disable = await rejection(
      identity.client.request(
        subjects.identity.mfa.totpDisable,
        { code: adminAuth.wrongCode() },
        { token: admin },
      ),
    );
    expect(disable).toMatchObject({ code: ErrorCode.PolicyDenied, reason: 'mfa_required_by_role' });
  });

  it('answers an unknown user and a wrong password with identical errors, and audits both without the name', async () => {
    const alice = await createUser('alice');
    const unknown = await rejection(login({ username: 'nobody-here-7', password: 'Whatever-Password-1' }));
    const wrong = await rejection(login({ username: 'alice', password: 'Whatever-Password-1' }));
    const inactiveOrLocked = [unknown, wrong].map((error) => ({
      code: error.code,
      message: error.message,
      reason: error.reason,
      status: error.status,
      details: error.details,
    }));

    expect(inactiveOrLocked[0]).toEqual(inactiveOrLocked[1]);
    expect(inactiveOrLocked[0]).toEqual({
      code: ErrorCode.Unauthenticated,
      message: 'invalid credentials',
      reason: 'invalid_credentials',
      status: 401,
      details: undefined,
    });

    const unknownRecord = await waitFor(() =>
      loginAudits().find((record) => record.details.reason === 'unknown_user'),
    );
    expect(unknownRecord.actor.kind).toBe('anonymous');
    expect(unknownRecord.details.usernameHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rawAudit.join('\n')).not.toContain('nobody-here-7');
    const badPassword = await waitFor(() =>
      loginAudits(`user:${alice.id}`).find((record) => record.details.reason === 'bad_password'),
    );
    expect(badPassword.outcome).toBe('failure');
    // no password ever reaches the audit trail
    expect(rawAudit.join('\n')).not.toContain('Whatever-Password-1');
    expect(rawAudit.join('\n')).not.toContain(adminPassword());
  });

  it('locks an account after 5 failures; an admin unlocks it; time unlocks it and the next lock doubles', async () => {
    const user = await createUser('lockme');
    for (let attempt = 0; attempt < 5; attempt++) {
      await rejection(login({ username: 'lockme', password: `Wrong-Password-${attempt}-x` }));
    }
    const locked = await rejection(login({ username: 'lockme', password: PASSWORD }));
    expect(locked).toMatchObject({ code: ErrorCode.Unauthenticated, message: 'invalid credentials' });
    const lockedView = await identity.client.request(
      subjects.identity.users.get,
      { id: user.id },
      { token: admin },
    );
    const firstLock = Date.parse(lockedView.lockedUntil as string) - Date.now();
    expect(firstLock).toBeGreaterThan(14 * 60_000);
    expect(firstLock).toBeLessThanOrEqual(15 * 60_000);
    await waitFor(() => loginAudits(`user:${user.id}`).find((record) => record.details.lockedNow === true));
    await waitFor(() => loginAudits(`user:${user.id}`).find((record) => record.details.reason === 'locked'));

    const unlocked = await identity.client.request(
      subjects.identity.users.unlock,
      { id: user.id },
      { token: admin },
    );
    expect(unlocked.lockedUntil).toBeUndefined();
    await tokensOf('lockme');

    // lock again, then let the lock run out (moved into the past in the database, as time would)
    for (let attempt = 0; attempt < 5; attempt++) {
      await rejection(login({ username: 'lockme', password: `Wrong-Password-${attempt}-y` }));
    }
    await pg.query(
      `UPDATE user_login_state SET locked_until = now() - interval '1 second' WHERE user_id = $1`,
      [user.id],
    );
    expect(
      (await identity.client.request(subjects.identity.users.get, { id: user.id }, { token: admin }))
        .lockedUntil,
    ).toBeUndefined();
    for (let attempt = 0; attempt < 5; attempt++) {
      await rejection(login({ username: 'lockme', password: `Wrong-Password-${attempt}-z` }));
    }
    const second = await identity.client.request(
      subjects.identity.users.get,
      { id: user.id },
      { token: admin },
    );
    const secondLock = Date.parse(second.lockedUntil as string) - Date.now();
    expect(secondLock).toBeGreaterThan(29 * 60_000);
    expect(secondLock).toBeLessThanOrEqual(30 * 60_000);

    await pg.query(
      `UPDATE user_login_state SET locked_until = now() - interval '1 second' WHERE user_id = $1`,
      [user.id],
    );
    await tokensOf('lockme');
  });

  it('throttles a client address after 20 failures with the seconds to wait; other addresses still log in', async () => {
    await createUser('throttled-user');
    const ip = '198.51.100.7';
    for (let attempt = 0; attempt < 20; attempt++) {
      await rejection(login({ username: `ghost-${attempt}`, password: 'Whatever-Password-1', ip }));
    }
    const refused = await rejection(login({ username: 'throttled-user', password: PASSWORD, ip }));
    expect(refused).toMatchObject({ code: ErrorCode.RateLimited, reason: 'throttled' });
    const retryAfter = loginRetryAfterSeconds(refused) as number;
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);

    const elsewhere = await login({ username: 'throttled-user', password: PASSWORD, ip: '198.51.100.8' });
    expect(elsewhere.accessToken).toBeTypeOf('string');
    await waitFor(() => loginAudits().find((record) => record.details.reason === 'throttled'));
    // the address is kept as a keyed hash only
    const { rows } = await pg.query<{ ip_hash: string }>('SELECT ip_hash FROM login_throttle');
    expect(rows.map((row) => row.ip_hash).join()).not.toContain(ip);
  });

  it('deactivation refuses the login and ends the sessions; an admin cannot deactivate itself', async () => {
    const dave = await createUser('dave');
    const session = await tokensOf('dave');

    const view = await identity.client.request(
      subjects.identity.users.update,
      { id: dave.id, active: false, displayName: 'Dave (left)' },
      { token: admin },
    );
    expect(view).toMatchObject({ active: false, displayName: 'Dave (left)' });

    const refused = await rejection(login({ username: 'dave', password: PASSWORD }));
    expect(refused).toMatchObject({ code: ErrorCode.Unauthenticated, message: 'invalid credentials' });
    const refresh = await rejection(
      identity.client.request(subjects.identity.auth.refresh, {
        refreshToken: session.refreshToken as string,
      }),
    );
    expect(refresh.code).toBe(ErrorCode.Unauthenticated);
    await waitFor(() =>
      audit.find((record) => record.action === 'user.deactivate' && record.target === `user:${dave.id}`),
    );

    const self = await rejection(
      identity.client.request(
        subjects.identity.users.update,
        { id: adminId, active: false },
        { token: admin },
      ),
    );
    expect(self).toMatchObject({ code: ErrorCode.Conflict, reason: 'self_deactivation' });
  });

  it('role assignment changes the traits of the next token', async () => {
    const rita = await createUser('rita');
    const before = await tokensOf('rita');
    expect(claims(before.accessToken).traits).toEqual(['ui.dashboard', 'viewer']);

    const view = await identity.client.request(
      subjects.identity.users.setRoles,
      { id: rita.id, roles: ['operator', 'pii_handler'] },
      { token: admin },
    );
    expect(view.roles).toEqual(['operator', 'pii_handler']);
    expect(view.traits).toEqual(expect.arrayContaining(['plugin_manager', 'handles_pii', 'audit_required']));

    const refreshed = await identity.client.request(subjects.identity.auth.refresh, {
      refreshToken: before.refreshToken as string,
    });
    expect(claims(refreshed.accessToken).traits).toEqual(view.traits);
    expect(claims(refreshed.accessToken).roles).toEqual(['operator', 'pii_handler']);

    const unknownRole = await rejection(
      identity.client.request(
        subjects.identity.users.setRoles,
        { id: rita.id, roles: ['root'] },
        { token: admin },
      ),
    );
    expect(unknownRole).toMatchObject({ code: ErrorCode.BadRequest, reason: 'unknown_role' });

    // a role that requires MFA ends the sessions of a user without it; the next login asks for enrolment
    await identity.client.request(
      subjects.identity.users.setRoles,
      { id: rita.id, roles: ['phi_handler'] },
      { token: admin },
    );
    const stale = await rejection(
      identity.client.request(subjects.identity.auth.refresh, { refreshToken: refreshed.refreshToken }),
    );
    expect(stale.code).toBe(ErrorCode.Unauthenticated);
    expect(await login({ username: 'rita', password: PASSWORD })).toMatchObject({
      mfaEnrollmentRequired: true,
    });
  });

  it('a viewer cannot manage users but lists roles; unauthenticated calls are refused', async () => {
    const viewer = await tokensOf('alice');
    const denied = await rejection(
      identity.client.request(
        subjects.identity.users.create,
        { username: 'mallory', password: PASSWORD },
        { token: viewer.accessToken as string },
      ),
    );
    expect(denied.code).toBe(ErrorCode.PolicyDenied);
    const anonymous = await rejection(identity.client.request(subjects.identity.users.list, {}));
    expect(anonymous.code).toBe(ErrorCode.Unauthenticated);

    const { roles } = await identity.client.request(
      subjects.identity.roles.list,
      {},
      { token: viewer.accessToken as string },
    );
    expect(roles.map((role) => role.name).sort()).toEqual([
      'admin',
      'compliance_officer',
      'developer',
      'operator',
      'phi_handler',
      'pii_handler',
      'security_admin',
      'viewer',
    ]);
    const byName = new Map(roles.map((role) => [role.name, role]));
    expect(byName.get('admin')?.traits).not.toContain('handles_phi');
    expect(byName.get('phi_handler')?.traits).toEqual(
      expect.arrayContaining(['handles_phi', 'audit_required', 'encryption_required']),
    );
    expect(
      roles
        .filter((role) => role.mfaRequired)
        .map((role) => role.name)
        .sort(),
    ).toEqual(['admin', 'compliance_officer', 'phi_handler', 'security_admin']);
  });

  it('creates users under the password policy, refuses duplicates and pages the list', async () => {
    const weak = await rejection(
      identity.client.request(
        subjects.identity.users.create,
        { username: 'weakling', password: 'password1234' },
        { token: admin },
      ),
    );
    expect(weak).toMatchObject({ code: ErrorCode.ValidationFailed, reason: 'common_password' });
    const same = await rejection(
      identity.client.request(
        subjects.identity.users.create,
        { username: 'samename-1234', password: 'SameName-1234' },
        { token: admin },
      ),
    );
    expect(same).toMatchObject({ code: ErrorCode.ValidationFailed, reason: 'equals_username' });
    const duplicate = await rejection(
      identity.client.request(
        subjects.identity.users.create,
        { username: 'ALICE', password: PASSWORD },
        { token: admin },
      ),
    );
    expect(duplicate.code).toBe(ErrorCode.Conflict);

    const first = await identity.client.request(subjects.identity.users.list, { limit: 2 }, { token: admin });
    expect(first.users.map((user) => user.username)).toEqual(['admin', 'alice']);
    expect(first.nextCursor).toBeTypeOf('string');
    const second = await identity.client.request(
      subjects.identity.users.list,
      { limit: 2, cursor: first.nextCursor },
      { token: admin },
    );
    expect(second.users.map((user) => user.username)).toEqual(['dave', 'lockme']);
    const all = await identity.client.request(subjects.identity.users.list, { limit: 200 }, { token: admin });
    expect(all.nextCursor).toBeUndefined();
    expect(all.users.map((user) => user.username)).toEqual(
      [...all.users.map((user) => user.username)].sort(),
    );
  });

  it('a signed-in user enrols TOTP with its access token, then may turn it off again', async () => {
    const ted = await createUser('ted');
    const session = await tokensOf('ted');
    const token = session.accessToken as string;

    const setup = await identity.client.request(subjects.identity.mfa.totpSetup, {}, { token });
    const auth = new TestAuthenticator(setup.secret);
    const enabled = await identity.client.request(
      subjects.identity.mfa.totpEnable,
      { code: await auth.nextCode() },
      { token },
    );
    expect(enabled.backupCodes).toHaveLength(10);
    // no new session: the caller has one
    expect(enabled.accessToken).toBeUndefined();
    expect(await login({ username: 'ted', password: PASSWORD })).toEqual({ mfaRequired: true });

    const badTotp = await rejection(login({ username: 'ted', password: PASSWORD, totp: auth.wrongCode() }));
    expect(badTotp.message).toBe('invalid credentials');
    await waitFor(() => loginAudits(`user:${ted.id}`).find((record) => record.details.reason === 'bad_totp'));

    const off = await identity.client.request(
      subjects.identity.mfa.totpDisable,
      { code: await auth.nextCode() },
      { token },
    );
    expect(off.disabled).toBe(true);
    expect((await tokensOf('ted')).accessToken).toBeTypeOf('string');
    await waitFor(() =>
      audit.find((record) => record.action === 'mfa.totp.disable' && record.target === `user:${ted.id}`),
    );

    // no token at all: setup is refused
    const none = await rejection(identity.client.request(subjects.identity.mfa.totpSetup, {}));
    expect(none.code).toBe(ErrorCode.Unauthenticated);
  });

  it('audits every kind of login attempt with its reason', () => {
    const reasons = new Set(loginAudits().map((record) => record.details.reason));

    expect([...reasons].sort()).toEqual(
      expect.arrayContaining([
        'bad_password',
        'bad_totp',
        'locked',
        'mfa_enrollment_required',
        'mfa_required',
        'ok',
        'throttled',
        'unknown_user',
        'inactive',
        'bad_backup_code',
      ]),
    );
    const success = loginAudits(`user:${adminId}`).find(
      (record) => record.details.method === 'password+totp',
    );
    expect(success?.outcome).toBe('success');
    expect(success?.actor).toEqual({ kind: 'user', id: `user:${adminId}` });
  });
});
