import { randomBytes } from 'node:crypto';

import type { RunningService } from '@vivified/service-kit';
import type { BuiltService, TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, startBuiltService, startNatsServer, waitFor } from '@vivified/testing';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startGatewayInProcess } from './gateway-in-process';

const ADMIN_PASSWORD = 'Correct-Horse-Battery-9';
const PASSWORD = 'Api-Key-Revocation-Passphrase-31';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A user with a password session and an API key the gateway has already exchanged (its token is cached). */
interface KeyHolder {
  id: string;
  /** The access token of the user's password login. */
  token: string;
  apiKey: string;
}

/**
 * The gateway keeps the token an API key exchanges for; when identity revokes the user's tokens (docs/identity-tokens.md
 * "Revocation") the services refuse it with `token_revoked`, and the gateway exchanges the key again and retries once,
 * so the key works at once. Identity as a built process, the gateway in this process, real NATS and PostgreSQL.
 */
describe('gateway: API keys after their user tokens are revoked', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  let identity: BuiltService | undefined;
  let gateway: RunningService | undefined;
  let base: string;
  let admin: string;

  async function call(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; apiKey?: string } = {},
  ): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();

    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function login(username: string): Promise<string> {
    const answer = await call('POST', '/v1/auth/login', { body: { username, password: PASSWORD } });
    expect(answer.status).toBe(200);

    return answer.body['accessToken'] as string;
  }

  /** Creates a viewer with an API key and uses the key once, so the gateway holds its token. */
  async function keyHolder(username: string): Promise<KeyHolder> {
    const created = await call('POST', '/v1/users', {
      token: admin,
      body: { username, password: PASSWORD, roles: ['viewer'] },
    });
    expect(created.status).toBe(201);
    const token = await login(username);
    const key = await call('POST', '/v1/api-keys', { token, body: { name: 'ci', scopes: ['viewer'] } });
    expect(key.status).toBe(201);
    const apiKey = key.body['apiKey'] as string;
    const me = await call('GET', '/v1/me', { apiKey });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username });

    return { id: created.body['id'] as string, token, apiKey };
  }

  /** Waits until identity refuses `token` as revoked: a token the gateway cached before then is refused too. */
  async function revoked(token: string): Promise<void> {
    await waitFor(
      async () => {
        const me = await call('GET', '/v1/me', { token });

        return me.status === 401 && (me.body['error'] as { reason?: string }).reason === 'token_revoked';
      },
      { what: 'the older token to be refused', timeoutMs: 2_000, intervalMs: 20 },
    );
  }

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_gw_api_keys')]);
    const shared = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
      VIVIFIED_LOG_LEVEL: 'warn',
    };
    identity = await startBuiltService('identity', {
      env: { ...shared, VIVIFIED_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    ({ gateway, base } = await startGatewayInProcess({
      ...shared,
      VIVIFIED_GATEWAY_LOGIN_RATE_LIMIT: '100',
    }));
    await waitFor(async () => (await call('GET', '/.well-known/jwks.json')).status === 200, {
      timeoutMs: 10_000,
      what: 'the gateway to serve the JWKS',
    });
    // the first admin enrols TOTP at its first login
    const first = await call('POST', '/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const enrollmentToken = first.body['enrollmentToken'] as string;
    const setup = await call('POST', '/v1/auth/mfa/totp/setup', { body: { enrollmentToken } });
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
    admin = enabled.body['accessToken'] as string;
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await identity?.stop();
    await Promise.allSettled([nats?.stop(), db?.drop()]);
  });

  it('serves an API key at once after its user logs out everywhere', async () => {
    const ava = await keyHolder('ava');

    const out = await call('POST', '/v1/auth/logout-all', { token: ava.token });
    expect(out.status).toBe(204);
    await revoked(ava.token);

    const me = await call('GET', '/v1/me', { apiKey: ava.apiKey });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: ava.id, username: 'ava' });
    // the new token is kept: the key keeps working
    expect((await call('GET', '/v1/roles', { apiKey: ava.apiKey })).status).toBe(200);
  });

  it('serves an API key at once after an admin changes its user’s roles', async () => {
    const ben = await keyHolder('ben');

    const roles = await call('PUT', `/v1/users/${ben.id}/roles`, {
      token: admin,
      body: { roles: ['viewer', 'developer'] },
    });
    expect(roles.status).toBe(200);
    await revoked(ben.token);

    const me = await call('GET', '/v1/me', { apiKey: ben.apiKey });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: ben.id, roles: ['developer', 'viewer'] });
  });

  it('refuses the API key of a deactivated user: identity refuses the new exchange', async () => {
    const cora = await keyHolder('cora');

    const deactivated = await call('PATCH', `/v1/users/${cora.id}`, {
      token: admin,
      body: { active: false },
    });
    expect(deactivated.status).toBe(200);
    await revoked(cora.token);

    const me = await call('GET', '/v1/me', { apiKey: cora.apiKey });
    expect(me.status).toBe(401);
    expect(me.body).toMatchObject({ error: { code: 'UNAUTHENTICATED', reason: 'user_inactive' } });
  });
});
