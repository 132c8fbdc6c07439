import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { opsPortEnv } from '@vivified/contracts';
import type { RunningService } from '@vivified/service-kit';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, freePort, startNatsServer, waitFor } from '@vivified/testing';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startGatewayInProcess } from './gateway-in-process';

const root = join(__dirname, '..', '..', '..');
const ADMIN_PASSWORD = 'Correct-Horse-Battery-9';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** The gateway's HTTP API in this process, identity as a built process, both on a NATS and database of their own. */
describe('gateway HTTP edge with identity behind it', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  const children: Array<{ service: string; child: ChildProcess; output: string[] }> = [];
  let gateway: RunningService;
  let base: string;

  async function call(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body === undefined
        ? {}
        : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
    const text = await response.text();

    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }

  /** Starts a service from its build output and waits until it is ready. */
  async function startBuilt(service: 'identity' | 'policy', env: Record<string, string>): Promise<void> {
    const main = join(root, 'apps', service, 'dist', 'main.js');
    if (!existsSync(main)) {
      throw new Error(`${main} is missing: run npm run build first (npm test does)`);
    }
    const opsPort = await freePort();
    const child = spawn(process.execPath, [main], {
      cwd: root,
      env: { PATH: process.env['PATH'], ...env, [opsPortEnv(service)]: String(opsPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry = { service, child, output: [] as string[] };
    children.push(entry);
    child.stdout?.on('data', (chunk: Buffer) => entry.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => entry.output.push(chunk.toString()));
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${opsPort}/health/ready`).catch(() => undefined))?.ok === true,
      { timeoutMs: 30_000, what: `${service} to be ready` },
    ).catch((error: unknown) => {
      throw new Error(`${service} did not start; its output:\n${entry.output.join('')}`, { cause: error });
    });
  }

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_gateway')]);
    const shared = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
      VIVIFIED_LOG_LEVEL: 'warn',
    };
    // identity answers the auth and user routes, policy the policy routes; both as built processes
    await startBuilt('identity', { ...shared, VIVIFIED_ADMIN_PASSWORD: ADMIN_PASSWORD });
    await startBuilt('policy', shared);
    ({ gateway, base } = await startGatewayInProcess({ ...shared, VIVIFIED_GATEWAY_LOGIN_RATE_LIMIT: '10' }));
    // the gateway learns identity's keys from the JWKS bucket
    await waitFor(async () => (await call('GET', '/.well-known/jwks.json')).status === 200, {
      timeoutMs: 10_000,
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) {
              resolve(undefined);

              return;
            }
            child.once('exit', resolve);
            child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.allSettled([nats?.stop(), db?.drop()]);
  });

  let adminToken: string;

  it('sends security headers and closes CORS', async () => {
    const answer = await call('GET', '/health', { headers: { origin: 'https://evil.example' } });

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(answer.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('strict-transport-security')).toBeNull();
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('publishes the OpenAPI document with the auth routes and their schemas', async () => {
    const answer = await call('GET', '/v1/openapi.json');
    const paths = answer.body['paths'] as Record<string, unknown>;
    const schemas = (answer.body['components'] as { schemas: Record<string, unknown> }).schemas;

    expect(answer.status).toBe(200);
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(['/v1/auth/login', '/v1/me', '/v1/users', '/.well-known/jwks.json']),
    );
    expect(schemas).toHaveProperty('LoginRequest');
    expect(schemas).toHaveProperty('ErrorEnvelope');
  });

  it('serves the JWKS with public members only', async () => {
    const answer = await call('GET', '/.well-known/jwks.json');
    const keys = answer.body['keys'] as Array<Record<string, unknown>>;

    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
    expect(answer.headers.get('cache-control')).toContain('max-age');
  });

  it('walks the first admin through TOTP enrolment at first login', async () => {
    const first = await call('POST', '/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ mfaEnrollmentRequired: true });
    const enrollmentToken = first.body['enrollmentToken'] as string;

    const setup = await call('POST', '/v1/auth/mfa/totp/setup', { body: { enrollmentToken } });
    expect(setup.status).toBe(200);
    const totp = new OTPAuth.TOTP({
      secret: OTPAuth.Secret.fromBase32(setup.body['secret'] as string),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    const enabled = await call('POST', '/v1/auth/mfa/totp/enable', {
      body: { enrollmentToken, code: totp.generate() },
    });

    expect(enabled.status).toBe(200);
    expect(enabled.body['backupCodes']).toHaveLength(10);
    adminToken = enabled.body['accessToken'] as string;
    const me = await call('GET', '/v1/me', { token: adminToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'admin', mfaEnrolled: true });
    expect(me.body['traits']).not.toContain('handles_phi');
  });

  it('serves the policy routes through the policy service', async () => {
    const traits = await call('GET', '/v1/traits', { token: adminToken });
    expect(traits.status).toBe(200);
    expect((traits.body['traits'] as unknown[]).length).toBeGreaterThan(50);

    const rules = [
      { type: 'operator', caller: 'a', target: 'b', operations: ['get_user'] },
      { type: 'proxy', plugin: 'a', domains: ['api.example.org'] },
    ];
    const put = await call('PUT', '/v1/policy/rules', { token: adminToken, body: { rules } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ version: 1 });
    const read = await call('GET', '/v1/policy/rules', { token: adminToken });
    expect(read.body).toMatchObject({ version: 1, rules });
    const invalid = await call('PUT', '/v1/policy/rules', {
      token: adminToken,
      body: { rules: [{ type: 'operator' }] },
    });
    expect(invalid.status).toBe(400);

    const input = (traits: string[]) => ({
      action: 'identity.user.create',
      principal: { kind: 'user', id: '00000000-0000-4000-8000-000000000001', traits, status: 'active' },
      resource: { type: 'users' },
      classification: [],
    });
    const allowed = await call('POST', '/v1/policy/simulate', {
      token: adminToken,
      // user_manager counts only with what it requires (admin): the engine checks requirements
      body: input(['admin', 'user_manager']),
    });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ effect: 'allow' });
    const denied = await call('POST', '/v1/policy/simulate', { token: adminToken, body: input(['viewer']) });
    expect(denied.body).toMatchObject({ effect: 'deny' });
    expect(denied.body['trail']).toEqual(expect.any(Array));
  });

  it('answers the error envelope: 401 without credentials, 400 for bad bodies and JSON, 404 for unknown routes', async () => {
    const anonymous = await call('GET', '/v1/users');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });

    const invalid = await call('POST', '/v1/users', {
      token: adminToken,
      body: { username: 'x', password: 1 },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });

    const badJson = await call('POST', '/v1/auth/login', { body: '{"username":' });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toHaveProperty('error.code');

    const missing = await call('GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('lets an admin create a viewer, who may read their profile but not manage users', async () => {
    const created = await call('POST', '/v1/users', {
      token: adminToken,
      body: { username: 'vera', password: 'Viewer-Password-2026', roles: ['viewer'] },
    });
    expect(created.status).toBe(201);

    const login = await call('POST', '/v1/auth/login', {
      body: { username: 'vera', password: 'Viewer-Password-2026' },
    });
    expect(login.status).toBe(200);
    const viewerToken = login.body['accessToken'] as string;
    expect(viewerToken).toEqual(expect.any(String));

    expect((await call('GET', '/v1/me', { token: viewerToken })).body).toMatchObject({ username: 'vera' });
    expect((await call('PUT', '/v1/policy/rules', { token: viewerToken, body: { rules: [] } })).status).toBe(
      403,
    );
    const denied = await call('GET', '/v1/users', { token: viewerToken });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { code: 'POLICY_DENIED' } });

    const refreshed = await call('POST', '/v1/auth/refresh', {
      body: { refreshToken: login.body['refreshToken'] },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body['refreshToken']).not.toBe(login.body['refreshToken']);
  });

  it('lets a user change its own password, which ends its sessions', async () => {
    const login = await call('POST', '/v1/auth/login', {
      body: { username: 'vera', password: 'Viewer-Password-2026' },
    });
    const token = login.body['accessToken'] as string;

    const wrong = await call('POST', '/v1/auth/password', {
      token,
      body: { currentPassword: 'not-the-password', newPassword: 'Another-Viewer-Pass-27' },
    });
    expect(wrong.status).toBe(401);
    const weak = await call('POST', '/v1/auth/password', {
      token,
      body: { currentPassword: 'Viewer-Password-2026', newPassword: 'short' },
    });
    expect(weak.status).toBe(400);

    const changed = await call('POST', '/v1/auth/password', {
      token,
      body: { currentPassword: 'Viewer-Password-2026', newPassword: 'Another-Viewer-Pass-27' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ changed: true });
    expect(changed.body['sessionsEnded']).toBeGreaterThanOrEqual(1);
    const refreshed = await call('POST', '/v1/auth/refresh', {
      body: { refreshToken: login.body['refreshToken'] },
    });
    expect(refreshed.status).toBe(401);
    const old = await call('POST', '/v1/auth/login', {
      body: { username: 'vera', password: 'Viewer-Password-2026' },
    });
    expect(old.status).toBe(401);
    const again = await call('POST', '/v1/auth/login', {
      body: { username: 'vera', password: 'Another-Viewer-Pass-27' },
    });
    expect(again.body['accessToken']).toEqual(expect.any(String));
  });

  it("refuses a deactivated user's access token at once, at identity and at policy", async () => {
    const created = await call('POST', '/v1/users', {
      token: adminToken,
      body: { username: 'xena', password: 'Xena-Password-2026', roles: ['viewer'] },
    });
    const login = await call('POST', '/v1/auth/login', {
      body: { username: 'xena', password: 'Xena-Password-2026' },
    });
    const token = login.body['accessToken'] as string;
    expect((await call('GET', '/v1/me', { token })).status).toBe(200);
    expect((await call('GET', '/v1/traits', { token })).status).not.toBe(401);

    const deactivated = await call('PATCH', `/v1/users/${created.body['id'] as string}`, {
      token: adminToken,
      body: { active: false },
    });
    expect(deactivated.status).toBe(200);

    // identity published the revocation before it answered; each sidecar follows it within milliseconds
    for (const path of ['/v1/me', '/v1/traits']) {
      const refused = await waitFor(
        async () => {
          const answer = await call('GET', path, { token });

          return answer.status === 401 ? answer : undefined;
        },
        { what: `${path} to refuse the token`, timeoutMs: 1_000, intervalMs: 20 },
      );
      expect(refused.body).toMatchObject({ error: { code: 'UNAUTHENTICATED', reason: 'token_revoked' } });
    }
  });

  it('makes a one-time password be changed before any token; an admin resets passwords and MFA', async () => {
    const created = await call('POST', '/v1/users', {
      token: adminToken,
      body: {
        username: 'wanda',
        password: 'Wanda-One-Time-Pass-2026',
        roles: ['viewer'],
        mustChangePassword: true,
      },
    });
    expect(created.status).toBe(201);
    const wandaId = created.body['id'] as string;

    const first = await call('POST', '/v1/auth/login', {
      body: { username: 'wanda', password: 'Wanda-One-Time-Pass-2026' },
    });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['passwordChangeRequired', 'passwordChangeToken']);
    const passwordChangeToken = first.body['passwordChangeToken'] as string;
    // the token is no bearer token
    expect((await call('GET', '/v1/me', { token: passwordChangeToken })).status).toBe(401);
    // neither a token nor a bearer: 401 before the body is looked at
    const anonymous = await call('POST', '/v1/auth/password', { body: { newPassword: 'x' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });

    const same = await call('POST', '/v1/auth/password', {
      body: { passwordChangeToken, newPassword: 'Wanda-One-Time-Pass-2026' },
    });
    expect(same.status).toBe(400);
    expect(same.body).toMatchObject({ error: { reason: 'password_unchanged' } });
    const changed = await call('POST', '/v1/auth/password', {
      body: { passwordChangeToken, newPassword: 'Wanda-Own-Passphrase-27' },
    });
    expect(changed.status).toBe(200);
    const wandaToken = changed.body['accessToken'] as string;
    const me = await call('GET', '/v1/me', { token: wandaToken });
    expect(me.body).toMatchObject({ username: 'wanda', mustChangePassword: false });

    // the admin resets it: a generated one-time password, shown once; the session ends
    const reset = await call('POST', `/v1/users/${wandaId}/password-reset`, { token: adminToken, body: {} });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ sessionsEnded: 1, user: { id: wandaId, mustChangePassword: true } });
    const oneTime = reset.body['oneTimePassword'] as string;
    expect(oneTime).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const refreshed = await call('POST', '/v1/auth/refresh', {
      body: { refreshToken: changed.body['refreshToken'] },
    });
    expect(refreshed.status).toBe(401);
    const afterReset = await call('POST', '/v1/auth/login', {
      body: { username: 'wanda', password: oneTime },
    });
    expect(afterReset.body).toMatchObject({ passwordChangeRequired: true });

    // not with a token from before the reset (revoked at every service), and not on oneself
    const self = await call('POST', '/v1/users/' + (me.body['id'] as string) + '/mfa-reset', {
      token: wandaToken,
      body: {},
    });
    expect(self.status).toBe(401);
    expect(self.body).toMatchObject({ error: { code: 'UNAUTHENTICATED', reason: 'token_revoked' } });
    const mfa = await call('POST', `/v1/users/${wandaId}/mfa-reset`, {
      token: adminToken,
      body: { passkeys: true },
    });
    expect(mfa.status).toBe(200);
    expect(mfa.body).toMatchObject({ totpRemoved: false, passkeysRemoved: 0 });
    const adminMe = await call('GET', '/v1/me', { token: adminToken });
    const ownReset = await call('POST', `/v1/users/${adminMe.body['id'] as string}/password-reset`, {
      token: adminToken,
      body: {},
    });
    expect(ownReset.status).toBe(409);
    expect(ownReset.body).toMatchObject({ error: { reason: 'self_reset' } });
  });

  it('authenticates with an API key exchanged at identity', async () => {
    const created = await call('POST', '/v1/api-keys', {
      token: adminToken,
      body: { name: 'ci', scopes: ['viewer'] },
    });
    expect(created.status).toBe(201);
    const apiKey = created.body['apiKey'] as string;

    const me = await call('GET', '/v1/me', { headers: { 'x-api-key': apiKey } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'admin' });
    const wrong = await call('GET', '/v1/me', { headers: { 'x-api-key': `${apiKey}x` } });
    expect(wrong.status).toBe(401);
  });

  it('rate-limits logins per address with standard headers', async () => {
    let last: Answer | undefined;
    for (let attempt = 0; attempt < 30 && last?.status !== 429; attempt += 1) {
      last = await call('POST', '/v1/auth/login', {
        body: { username: 'nobody', password: 'wrong-password-123' },
      });
      expect(last.headers.get('x-ratelimit-limit')).toBe('10');
    }

    expect(last?.status).toBe(429);
    expect(last?.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(last?.headers.get('retry-after')).toEqual(expect.any(String));
  });
});
