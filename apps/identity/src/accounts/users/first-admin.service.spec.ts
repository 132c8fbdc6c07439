import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { ServiceLogger } from '@vivified/service-kit';
import { describe, expect, it, vi } from 'vitest';

import type { AccountsAudit } from '../accounts-audit';
import type { PasswordHasher } from '../password/password-hasher';
import type { IdentityConfig } from '../ports';
import { FirstAdminService } from './first-admin.service';
import type { NewUser, UsersRepository } from './users.repository';

function newTestService(options: { admins?: number; password?: string } = {}) {
  const created: NewUser[] = [];
  const printed: string[] = [];
  const users = {
    countActiveWithRole: vi.fn(() => Promise.resolve(options.admins ?? 0)),
    createFirstAdmin: vi.fn((user: NewUser) => {
      created.push(user);

      return Promise.resolve('6f1c1c52-3c43-4a51-9f5e-0d7b8f9a1a10');
    }),
  };
  const passwords = { hash: vi.fn((password: string) => Promise.resolve(`hashed:${password}`)) };
  const audit = { record: vi.fn(() => Promise.resolve()) };
  const logger = { info: vi.fn() };
  const config = { adminUsername: 'Chief', adminPassword: options.password } as IdentityConfig;
  const sut = new FirstAdminService(
    users as unknown as UsersRepository,
    passwords as unknown as PasswordHasher,
    audit as unknown as AccountsAudit,
    config,
    logger as unknown as ServiceLogger,
    (text) => printed.push(text),
  );

  return { sut, mocks: { users, passwords, audit, logger }, created, printed };
}

describe(FirstAdminService.name, () => {
  it('creates the admin from the configured password without printing anything', async () => {
    const { sut, created, printed, mocks } = newTestService({ password: 'Correct-Horse-Battery-9' });
    await sut.onApplicationBootstrap();

    expect(created).toEqual([
      {
        username: 'chief',
        email: null,
        displayName: 'Administrator',
        passwordHash: 'hashed:Correct-Horse-Battery-9',
        roles: ['admin'],
        mustChangePassword: false,
      },
    ]);
    expect(printed).toEqual([]);
    expect(mocks.audit.record).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(mocks.logger.info.mock.calls)).not.toContain('Correct-Horse');
  });

  it('generates a one-time password, prints it once and flags the account', async () => {
    const { sut, created, printed, mocks } = newTestService();
    await sut.onApplicationBootstrap();

    const password = /"password":"([^"]+)"/.exec(printed.join(''))?.[1] as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(created[0]?.passwordHash).toBe(`hashed:${password}`);
    expect(created[0]?.mustChangePassword).toBe(true);
    expect(JSON.stringify(mocks.logger.info.mock.calls)).not.toContain(password);
    expect(JSON.stringify(mocks.audit.record.mock.calls)).not.toContain(password);
  });

  it('refuses to start with a configured password that breaks the policy', async () => {
    const { sut, created } = newTestService({ password: 'admin' });
    const error = await sut.onApplicationBootstrap().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(VivifiedError);
    expect((error as VivifiedError).code).toBe(ErrorCode.ValidationFailed);
    expect(created).toEqual([]);
  });

  it('does nothing once an admin exists', async () => {
    const { sut, mocks, printed } = newTestService({ admins: 1 });
    await sut.onApplicationBootstrap();

    expect(mocks.passwords.hash).not.toHaveBeenCalled();
    expect(mocks.users.createFirstAdmin).not.toHaveBeenCalled();
    expect(printed).toEqual([]);
  });
});
