import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { describe, expect, it, vi } from 'vitest';

import type { AccountsAudit } from '../accounts-audit';
import { userActor } from '../caller';
import type { TokenIssuer } from '../ports';
import type { UsersRepository } from '../users/users.repository';
import type { SessionRevocations } from './session-revocations';
import { SignOutService } from './sign-out.service';

const USER_ID = '5b0c1d7e-2f43-4c8a-9e61-3a7d2b9f0c11';

function newTestService(options: { active?: boolean | undefined; revocationFails?: boolean } = {}) {
  const steps: string[] = [];
  const users = {
    findById: vi.fn(() =>
      Promise.resolve(options.active === undefined ? undefined : { id: USER_ID, active: options.active }),
    ),
  };
  const revocations = {
    revokeTokensBeforeChange: vi.fn((_userId: string, _active: boolean, reason: string) => {
      steps.push(`revoke before (${reason})`);

      return options.revocationFails
        ? Promise.reject(
            new VivifiedError(ErrorCode.Unavailable, 'down', { reason: 'revocation_unavailable' }),
          )
        : Promise.resolve();
    }),
    revokeTokens: vi.fn((_userId: string, _active: boolean, reason: string) => {
      steps.push(`revoke after (${reason})`);

      return Promise.resolve();
    }),
  };
  const tokens = {
    revokeUserSessions: vi.fn((_userId: string, reason: string) => {
      steps.push(`end sessions (${reason})`);

      return Promise.resolve(2);
    }),
  };
  const audit = { record: vi.fn(() => Promise.resolve()) };
  const sut = new SignOutService(
    users as unknown as UsersRepository,
    tokens as unknown as TokenIssuer,
    revocations as unknown as SessionRevocations,
    audit as unknown as AccountsAudit,
  );
  const change = vi.fn(() => {
    steps.push('change');

    return Promise.resolve('changed');
  });

  return { sut, mocks: { users, revocations, tokens, audit, change }, steps };
}

describe(SignOutService.name, () => {
  it('revokes the access tokens before the change, then ends the sessions and revokes again', async () => {
    const { sut, mocks, steps } = newTestService({ active: true });

    await expect(sut.around(USER_ID, 'totp_disabled', mocks.change)).resolves.toEqual({
      result: 'changed',
      sessionsEnded: 2,
    });

    expect(steps).toEqual([
      'revoke before (totp_disabled)',
      'change',
      'end sessions (totp_disabled)',
      'revoke after (totp_disabled)',
    ]);
    expect(mocks.revocations.revokeTokens).toHaveBeenCalledWith(USER_ID, true, 'totp_disabled');
  });

  it('makes no change when the revocation cannot be published', async () => {
    const { sut, mocks, steps } = newTestService({ active: true, revocationFails: true });

    await expect(sut.around(USER_ID, 'passkey_removed', mocks.change)).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      reason: 'revocation_unavailable',
    });

    expect(steps).toEqual(['revoke before (passkey_removed)']);
    expect(mocks.tokens.revokeUserSessions).not.toHaveBeenCalled();
  });

  it.each([
    ['an inactive', false],
    ['an unknown', undefined],
  ])('writes nothing for %s user, so a revocation never reactivates anyone', async (_what, active) => {
    const { sut, mocks, steps } = newTestService({ active });

    await expect(sut.around(USER_ID, 'logout_all', mocks.change)).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'user_inactive',
    });

    expect(steps).toEqual([]);
  });

  it('logs out everywhere and audits it with reason logout_all', async () => {
    const { sut, mocks, steps } = newTestService({ active: true });

    await expect(sut.everywhere({ userId: USER_ID, actor: userActor(USER_ID) })).resolves.toEqual({
      sessionsEnded: 2,
    });

    expect(steps).toEqual([
      'revoke before (logout_all)',
      'end sessions (logout_all)',
      'revoke after (logout_all)',
    ]);
    expect(mocks.audit.record).toHaveBeenCalledWith({
      category: 'auth',
      action: 'session.logout_all',
      outcome: 'success',
      actor: { kind: 'user', id: `user:${USER_ID}` },
      target: `user:${USER_ID}`,
      details: { reason: 'logout_all', sessionsEnded: 2 },
    });
  });
});
