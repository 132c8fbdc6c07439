import { randomUUID } from 'node:crypto';

import type { MfaCoverageReply, UserView } from '@vivified/contracts';
import { ErrorCode, MFA_COVERAGE_MAX_IDS, streams, subjects } from '@vivified/contracts';
import { ensureStream } from '@vivified/nats-transport';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { enrolAtFirstLogin, rejection, TestAuthenticator } from './accounts-support';
import type { IdentityHarness } from './harness';
import { startIdentity } from './harness';
import { SoftwareAuthenticator } from './support/software-authenticator';

const ORIGIN = 'http://localhost:8080';
const PASSWORD = 'Coverage-Tests-Passphrase-3';

describe('MFA coverage of PHI users (identity.user.mfa-coverage)', () => {
  let identity: IdentityHarness;
  let pg: Client;
  let admin: string;
  let viewerToken: string;
  let auditorToken: string;
  /** PHI users without a second factor, by name. */
  const withoutMfa = new Map<string, string>();
  const ids = new Map<string, string>();

  const coverage = (token?: string): Promise<MfaCoverageReply> =>
    identity.client.request(subjects.identity.users.mfaCoverage, {}, token === undefined ? {} : { token });

  async function createUser(username: string, roles: string[]): Promise<UserView> {
    const view = await identity.client.request(
      subjects.identity.users.create,
      { username, password: PASSWORD, roles },
      { token: admin },
    );
    ids.set(username, view.id);

    return view;
  }

  /** Logs in a user whose roles require MFA and completes TOTP enrolment; answers its access token. */
  async function enrolUser(username: string): Promise<string> {
    return (await enrolAtFirstLogin(identity.client, username, PASSWORD)).accessToken;
  }

  /** The access token of a user whose roles do not require MFA (password only). */
  async function passwordLogin(username: string): Promise<string> {
    const reply = await identity.client.request(subjects.identity.auth.login, {
      username,
      password: PASSWORD,
    });

    return reply.accessToken as string;
  }

  async function registerPasskey(token: string): Promise<void> {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { ceremonyId, publicKey } = await identity.client.request(
      subjects.identity.webauthn.registerOptions,
      {},
      { token },
    );
    await identity.client.request(
      subjects.identity.webauthn.registerVerify,
      { ceremonyId, credential: authenticator.create(publicKey), label: 'Laptop' },
      { token },
    );
  }

  beforeAll(async () => {
    identity = await startIdentity({
      VIVIFIED_WEBAUTHN_ORIGINS: ORIGIN,
      VIVIFIED_WEBAUTHN_RP_ID: 'localhost',
    });
    // the audit service owns VIVIFIED_AUDIT; created here so identity's emitter can store its records
    await ensureStream(await identity.nc.jetstreamManager(), streams.audit);
    pg = new Client({ connectionString: identity.db.url, options: '-c search_path=identity,public' });
    await pg.connect();

    // the first admin enrols TOTP at its first login (admin requires MFA)
    ({ accessToken: admin } = await enrolAtFirstLogin(
      identity.client,
      'admin',
      identity.env['VIVIFIED_ADMIN_PASSWORD'] ?? '',
    ));

    // roles no API creates: handles_phi without the audit_required it requires (never takes effect), and a
    // legacy alias of handles_phi with its requirement (takes effect as handles_phi)
    await pg.query(
      `INSERT INTO roles (name, description, traits) VALUES
         ('phi_unaudited', 'handles_phi without audit_required', ARRAY['handles_phi', 'viewer']),
         ('phi_legacy', 'legacy alias of handles_phi', ARRAY['hipaa_authorized', 'audit_required', 'viewer'])`,
    );

    // PHI users: no second factor; TOTP at first login; a setup never confirmed; a passkey; TOTP and a passkey
    withoutMfa.set('phi-none', (await createUser('phi-none', ['phi_handler'])).id);
    await createUser('phi-totp', ['phi_handler']);
    await enrolUser('phi-totp');
    withoutMfa.set('phi-pending', (await createUser('phi-pending', ['phi_handler'])).id);
    const pending = await identity.client.request(subjects.identity.auth.login, {
      username: 'phi-pending',
      password: PASSWORD,
    });
    await identity.client.request(subjects.identity.mfa.totpSetup, {
      enrollmentToken: pending.enrollmentToken,
    });
    const passkeyUser = await createUser('phi-passkey', ['viewer']);
    await registerPasskey(await passwordLogin('phi-passkey'));
    await identity.client.request(
      subjects.identity.users.setRoles,
      { id: passkeyUser.id, roles: ['phi_handler'] },
      { token: admin },
    );
    const both = await createUser('phi-both', ['viewer']);
    const bothToken = await passwordLogin('phi-both');
    const setup = await identity.client.request(subjects.identity.mfa.totpSetup, {}, { token: bothToken });
    await identity.client.request(
      subjects.identity.mfa.totpEnable,
      { code: await new TestAuthenticator(setup.secret).nextCode() },
      { token: bothToken },
    );
    await registerPasskey(bothToken);
    await identity.client.request(
      subjects.identity.users.setRoles,
      { id: both.id, roles: ['phi_handler', 'viewer'] },
      { token: admin },
    );
    withoutMfa.set('phi-legacy', (await createUser('phi-legacy', ['phi_legacy'])).id);

    // not PHI users: a deactivated phi_handler, handles_phi without its requirement, a viewer, an auditor
    const inactive = await createUser('phi-inactive', ['phi_handler']);
    await identity.client.request(
      subjects.identity.users.update,
      { id: inactive.id, active: false },
      { token: admin },
    );
    await createUser('phi-unaudited', ['phi_unaudited']);
    await createUser('plain-viewer', ['viewer']);
    viewerToken = await passwordLogin('plain-viewer');
    await createUser('auditor', ['compliance_officer']);
    auditorToken = await enrolUser('auditor');
  }, 120_000);

  afterAll(async () => {
    await pg?.end().catch(() => undefined);
    await identity?.stop();
  });

  it('counts active PHI users (effective handles_phi) with TOTP, passkeys or neither, and lists ids only', async () => {
    const before = Date.now();
    const reply = await coverage(auditorToken);

    // admin, 6 PHI users, the deactivated one, phi-unaudited, the viewer and the auditor
    expect(reply.users).toEqual({ total: 11, active: 10 });
    expect(reply.phiUsers).toEqual({
      total: 6,
      withMfa: 3,
      withTotp: 2,
      withPasskey: 2,
      withoutMfa: 3,
      withoutMfaIds: [...withoutMfa.values()].sort(),
    });
    expect(reply.adminUsers).toEqual({ total: 1, withMfa: 1 });
    expect(Date.parse(reply.generatedAt)).toBeGreaterThanOrEqual(before - 1000);
    // no username, email or display name anywhere in the reply
    const text = JSON.stringify(reply);
    for (const username of ids.keys()) {
      expect(text).not.toContain(username);
    }
  });

  it('answers core services (service token), admins and audit viewers; refuses a viewer and anonymous callers', async () => {
    const { accessToken: serviceToken } = await identity.client.request(subjects.identity.tokens.service, {
      service: 'audit',
      secret: identity.env['VIVIFIED_SERVICE_SECRET'] ?? '',
    });
    const asService = await coverage(serviceToken);
    const asAdmin = await coverage(admin);
    expect(asService.phiUsers.withoutMfa).toBe(3);
    expect(asAdmin.phiUsers).toEqual(asService.phiUsers);

    const denied = await rejection(coverage(viewerToken));
    expect(denied.code).toBe(ErrorCode.PolicyDenied);
    const anonymous = await rejection(coverage());
    expect(anonymous.code).toBe(ErrorCode.Unauthenticated);
  });

  it('follows changes: a user enrolling drops out of the gap, a deactivated one out of the count', async () => {
    await enrolUser('phi-none');
    await identity.client.request(
      subjects.identity.users.update,
      { id: withoutMfa.get('phi-legacy') as string, active: false },
      { token: admin },
    );
    withoutMfa.delete('phi-none');
    withoutMfa.delete('phi-legacy');

    const reply = await coverage(auditorToken);
    expect(reply.users).toEqual({ total: 11, active: 9 });
    expect(reply.phiUsers).toMatchObject({ total: 5, withMfa: 4, withTotp: 3, withoutMfa: 1 });
    expect(reply.phiUsers.withoutMfaIds).toEqual([...withoutMfa.values()]);
  });

  it(`lists at most ${MFA_COVERAGE_MAX_IDS} ids, the lowest first, while counting every PHI user without MFA`, async () => {
    // 60 more phi_handler users without MFA, inserted directly (hashing 60 passwords would only slow the test)
    const extra = Array.from({ length: 60 }, () => randomUUID());
    await pg.query(
      `WITH added AS (
         INSERT INTO users (id, username, password_hash)
         SELECT id, 'bulk-' || replace(id::text, '-', ''), 'not-a-password-hash' FROM unnest($1::uuid[]) AS id
         RETURNING id)
       INSERT INTO user_roles (user_id, role) SELECT id, 'phi_handler' FROM added`,
      [extra],
    );
    const reply = await coverage(auditorToken);
    const expected = [...withoutMfa.values(), ...extra].sort();

    expect(reply.phiUsers.total).toBe(65);
    expect(reply.phiUsers.withoutMfa).toBe(61);
    expect(reply.phiUsers.withoutMfaIds).toEqual(expected.slice(0, MFA_COVERAGE_MAX_IDS));
  });
});
