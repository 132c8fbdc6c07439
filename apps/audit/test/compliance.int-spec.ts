import { randomBytes, randomUUID } from 'node:crypto';

import type { ComplianceSafeguardView } from '@vivified/contracts';
import { subjects } from '@vivified/contracts';
import type { BuiltService } from '@vivified/testing';
import { startBuiltService } from '@vivified/testing';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AuditHarness, traits } from './harness';

const PASSWORD = 'Compliance-Tests-Passphrase-5';
/** The traits of identity's admin role that user administration needs. */
const USER_ADMIN = ['admin', 'user_manager', 'viewer'];

/**
 * The compliance report's MFA evidence from a real identity: the audit service in this process (as `main.ts`
 * starts it), identity as its built process (apps/identity/dist/main.js) on the same nats-server and database,
 * both with the same service secret, so the report asks identity with the audit service's own service token.
 */
describe('compliance report: MFA coverage of PHI users from identity', () => {
  let harness: AuditHarness;
  let identity: BuiltService | undefined;
  let auditor: string;
  let userAdmin: string;
  /** The PHI user without a second factor in the first test. */
  const gapUser = `phi-gap-${randomUUID().slice(0, 8)}`;

  async function report(): Promise<ComplianceSafeguardView> {
    const reply = await harness.client.request(subjects.audit.compliance.report, {}, { token: auditor });
    const authentication = reply.safeguards.find((safeguard) => safeguard.id === '164.312(d)');
    if (authentication === undefined) {
      throw new Error('the report has no 164.312(d) safeguard');
    }

    return authentication;
  }

  async function createPhiUser(username: string): Promise<string> {
    const view = await harness.client.request(
      subjects.identity.users.create,
      { username, password: PASSWORD, roles: ['phi_handler'] },
      { token: userAdmin },
    );

    return view.id;
  }

  /** The first login of an MFA-required role: TOTP enrolment with a code of the new secret. */
  async function enrolTotp(username: string): Promise<void> {
    const first = await harness.client.request(subjects.identity.auth.login, {
      username,
      password: PASSWORD,
    });
    const enrollmentToken = first.enrollmentToken as string;
    const { secret } = await harness.client.request(subjects.identity.mfa.totpSetup, { enrollmentToken });
    const code = new TOTP({
      secret: Secret.fromBase32(secret),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    }).generate();
    await harness.client.request(subjects.identity.mfa.totpEnable, { enrollmentToken, code });
  }

  beforeAll(async () => {
    const serviceSecret = randomBytes(32).toString('base64url');
    harness = await AuditHarness.start({ VIVIFIED_SERVICE_SECRET: serviceSecret });
    auditor = await harness.token(traits.auditor);
    userAdmin = await harness.token(USER_ADMIN);

    identity = await startBuiltService('identity', {
      env: {
        VIVIFIED_NATS_URL: harness.nats.url,
        VIVIFIED_DATABASE_URL: harness.db.url,
        VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
        VIVIFIED_SERVICE_SECRET: serviceSecret,
        VIVIFIED_ADMIN_USERNAME: 'admin',
        VIVIFIED_ADMIN_PASSWORD: 'Correct-Horse-Battery-9',
        VIVIFIED_LOG_LEVEL: 'warn',
      },
      readyTimeoutMs: 60_000,
    });
  }, 120_000);

  afterAll(async () => {
    await identity?.stop();
    await harness?.stop();
  });

  it('reports a gap with the count and the ids of PHI users without a second factor', async () => {
    const gap = await createPhiUser(gapUser);
    const enrolled = `phi-ok-${randomUUID().slice(0, 8)}`;
    await createPhiUser(enrolled);
    await enrolTotp(enrolled);

    const authentication = await report();
    expect(authentication.status).toBe('partial');
    expect(authentication.evidence['mfaCoverageOfPhiUsers']).toMatchObject({
      status: 'gap',
      phiUsers: 2,
      withMfa: 1,
      withTotp: 1,
      withPasskey: 0,
      withoutMfa: 1,
      withoutMfaIds: [gap],
      // the first admin identity created at start, before its first login (TOTP enrolment)
      adminUsers: { total: 1, withMfa: 0 },
      activeUsers: 3,
    });
    expect(authentication.note).toBe('1 of 2 PHI users have no second factor (TOTP or passkey)');
    // the rest of the safeguard is as before
    expect(authentication.evidence['tokens']).toBe('EdDSA-signed JWTs verified on every call');
    expect(authentication.evidence['pluginsWithPhiTraits']).toEqual([]);
  });

  it('is met once every PHI user has enrolled', async () => {
    await enrolTotp(gapUser);

    const authentication = await report();
    expect(authentication.status).toBe('met');
    expect(authentication.evidence['mfaCoverageOfPhiUsers']).toMatchObject({
      status: 'ok',
      phiUsers: 2,
      withMfa: 2,
      withoutMfa: 0,
      withoutMfaIds: [],
    });
    expect(authentication.note).toBeUndefined();
  });

  it('says unknown, with the reason, when identity does not answer, and answers within its deadline', async () => {
    await identity?.stop();

    const started = Date.now();
    const authentication = await report();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(authentication.status).toBe('unknown');
    expect(authentication.evidence['mfaCoverageOfPhiUsers']).toEqual({
      status: 'unknown',
      reason: 'UNAVAILABLE',
    });
  });
});
