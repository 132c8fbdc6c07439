import { Injectable } from '@nestjs/common';
import type { ChangePasswordReply, ChangePasswordRequest } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';

import { AccountsAudit } from '../accounts-audit';
import type { UserCaller } from '../caller';
import { userTarget } from '../caller';
import { LockoutService } from '../login/lockout.service';
import { invalidCredentials } from '../login/login.service';
import { UsersRepository } from '../users/users.repository';
import { SignOutService } from '../sessions/sign-out.service';
import { PasswordHasher } from './password-hasher';
import { assertPasswordAcceptable } from './password-policy';

/**
 * A user changes its own password: the current one is checked like a login (a wrong one counts towards the
 * lockout), the new one must meet the policy, and every session of the user ends so a stolen session dies with it.
 */
@Injectable()
export class PasswordChangeService {
  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly audit: AccountsAudit,
    private readonly signOut: SignOutService,
  ) {}

  async change(caller: UserCaller, request: ChangePasswordRequest): Promise<ChangePasswordReply> {
    const user = await this.users.findById(caller.userId);
    const candidate = user?.active ? await this.users.findLoginCandidate(user.username) : undefined;
    if (!candidate) {
      throw invalidCredentials();
    }
    const about = {
      category: 'auth' as const,
      action: 'password.change',
      actor: caller.actor,
      target: userTarget(candidate.id),
    };
    const currentOk = await this.passwords.verify(candidate.passwordHash, request.currentPassword);
    if (!currentOk || (await this.lockout.isLocked(candidate.id))) {
      if (!currentOk) {
        await this.lockout.recordFailure(candidate.id);
      }
      await this.audit.record({
        ...about,
        outcome: 'failure',
        details: { reason: currentOk ? 'locked' : 'bad_password' },
      });
      throw invalidCredentials();
    }
    if (request.newPassword === request.currentPassword) {
      throw new VivifiedError(
        ErrorCode.ValidationFailed,
        'the new password must differ from the current one',
        {
          reason: 'password_unchanged',
          details: [{ path: 'newPassword', messages: ['must differ from the current password'] }],
        },
      );
    }
    assertPasswordAcceptable(request.newPassword, candidate.username);
    const hash = await this.passwords.hash(request.newPassword);
    // every access token of the user is revoked before the change (none published: no change) and again after
    // the sessions ended (a token refreshed in between)
    const { sessionsEnded } = await this.signOut.aroundUser(
      { id: candidate.id, active: true },
      'password_changed',
      () => this.users.setPassword(candidate.id, hash),
    );
    await this.audit.record({ ...about, outcome: 'success', details: { sessionsEnded } });

    return { changed: true, sessionsEnded };
  }
}
