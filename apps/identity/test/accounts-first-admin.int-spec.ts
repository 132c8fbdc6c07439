import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { opsPortEnv, subjects } from '@vivified/contracts';
import { connectNats, VivifiedClient } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, freePort, startNatsServer } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { identityConfigSchema } from '../src/config';
import { IdentityModule } from '../src/identity.module';
import { TestAuthenticator } from './accounts-support';

const ADMIN = 'chief';

describe('first admin without VIVIFIED_ADMIN_PASSWORD', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  let nc: NatsConnection;
  let client: VivifiedClient;
  let pg: Client;
  const replicas: RunningService[] = [];
  const printed: string[] = [];

  /** Starts one replica on its own ops port; bootstrapService reads the config before its first await. */
  function startReplica(opsPort: number): Promise<RunningService> {
    process.env[opsPortEnv('identity')] = String(opsPort);

    return bootstrapService({
      service: 'identity',
      version: '0.0.0-test',
      module: IdentityModule,
      migrationsDir: join(__dirname, '..', 'migrations'),
      configSchema: identityConfigSchema,
    });
  }

  function oneTimePasswords(): string[] {
    return printed
      .map((text) => /"password":"([^"]+)"/.exec(text)?.[1])
      .filter((value): value is string => value !== undefined);
  }

  async function adminCount(): Promise<number> {
    const { rows } = await pg.query<{ count: string }>(
      `SELECT count(*) AS count FROM user_roles WHERE role = 'admin'`,
    );

    return Number(rows[0]?.count);
  }

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_identity_first_admin')]);
    Object.assign(process.env, {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_LOG_LEVEL: 'silent',
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
      VIVIFIED_ADMIN_USERNAME: ADMIN,
      // empty counts as unset: the first start generates a one-time password
      VIVIFIED_ADMIN_PASSWORD: '',
    });
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));

      return true;
    });
    try {
      // two replicas start together on an empty database
      const ports = [await freePort(), await freePort()];
      replicas.push(...(await Promise.all(ports.map((port) => startReplica(port)))));
    } finally {
      write.mockRestore();
    }
    ({ nc } = await connectNats({ servers: [nats.url], name: 'first-admin-test' }));
    client = new VivifiedClient(nc);
    pg = new Client({ connectionString: db.url, options: '-c search_path=identity,public' });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end().catch(() => undefined);
    await nc?.drain().catch(() => undefined);
    for (const replica of replicas) {
      await replica.stop();
    }
    await Promise.allSettled([nats?.stop(), db?.drop()]);
  });

  it('creates one admin and prints its one-time password once, to stdout', async () => {
    expect(oneTimePasswords()).toHaveLength(1);
    expect(oneTimePasswords()[0]).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(printed.join('')).toContain(`"username":"${ADMIN}"`);
    expect(await adminCount()).toBe(1);
    const { rows } = await pg.query<{ must_change_password: boolean }>(
      'SELECT must_change_password FROM users WHERE username = $1',
      [ADMIN],
    );
    expect(rows[0]?.must_change_password).toBe(true);
  });

  it('the admin logs in with it, must change it first, then enrols TOTP and gets tokens', async () => {
    const [password = ''] = oneTimePasswords();
    const first = await client.request(subjects.identity.auth.login, { username: ADMIN, password });
    // password first: no enrolment token and no tokens while the one-time password stands
    expect(Object.keys(first).sort()).toEqual(['passwordChangeRequired', 'passwordChangeToken']);

    const changed = await client.request(subjects.identity.auth.requiredPasswordChange, {
      passwordChangeToken: first.passwordChangeToken as string,
      newPassword: 'Chief-Chosen-Passphrase-2026',
    });
    // then MFA: the admin role requires it
    expect(Object.keys(changed).sort()).toEqual(['enrollmentToken', 'mfaEnrollmentRequired']);
    const enrollmentToken = changed.enrollmentToken as string;
    const { secret } = await client.request(subjects.identity.mfa.totpSetup, { enrollmentToken });
    const enabled = await client.request(subjects.identity.mfa.totpEnable, {
      enrollmentToken,
      code: await new TestAuthenticator(secret).nextCode(),
    });

    const me = await client.request(subjects.identity.auth.me, {}, { token: enabled.accessToken as string });
    expect(me).toMatchObject({
      username: ADMIN,
      roles: ['admin'],
      mustChangePassword: false,
      mfaEnrolled: true,
    });
    // the one-time password is gone
    await expect(
      client.request(subjects.identity.auth.login, { username: ADMIN, password }),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('a later start neither creates another admin nor prints again', async () => {
    const before = printed.length;
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));

      return true;
    });
    try {
      replicas.push(await startReplica(await freePort()));
    } finally {
      write.mockRestore();
    }

    expect(printed.slice(before).join('')).not.toContain('VIVIFIED-ONE-TIME-SECRET');
    expect(await adminCount()).toBe(1);
  });
});
