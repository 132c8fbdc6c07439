import { Inject, Injectable } from '@nestjs/common';
import type { LoginReply, RequiredPasswordChangeRequest } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';

import type { TokenIssuer } from '../ports';
import { TOKEN_ISSUER } from '../ports';
import { AccountsAudit } from '../accounts-audit';
import { userActor, userTarget } from '../caller';
import { LockoutService } from '../login/lockout.service';
import { SessionOpener } from '../login/session-opener.service';
import { SignOutService } from '../sessions/sign-out.service';
import { UsersRepository } from '../users/users.repository';
import { PasswordHasher } from './password-hasher';
import { assertPasswordAcceptable } from './password-policy';

const invalidToken = (reason: string) =>
  new VivifiedError(ErrorCode.Unauthenticated, 'invalid password-change token', { reason });

/** The new password must not be the one-time password it replaces. */
export function passwordUnchanged(): VivifiedError {
  return new VivifiedError(ErrorCode.ValidationFailed, 'the new password must differ from the current one', {
    reason: 'password_unchanged',
    details: [{ path: 'newPassword', messages: ['must differ from the current password'] }],
  });
}

/**
 * The password change a login required (docs/identity.md "Required password change"): the password-change token
 * the login answered proves the user, the new password must meet the policy and differ from the one-time one, the
 * flag clears in the same statement that sets the password (so a token works once), every session ends, and the
 * login continues where it stopped: an MFA enrolment when a role needs one, else the session.
 */
@Injectable()
export class RequiredPasswordChangeService {
  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly sessions: SessionOpener,
    @Inject(TOKEN_ISSUER) private readonly tokens: TokenIssuer,
    private readonly audit: AccountsAudit,
    private readonly signOut: SignOutService,
  ) {}

  async change(request: RequiredPasswordChangeRequest): Promise<LoginReply> {
    const grant = await this.tokens.verifyPasswordChangeToken(request.passwordChangeToken);
    const about = {
      category: 'auth' as const,
      action: 'password.change',
      actor: userActor(grant.userId),
      target: userTarget(grant.userId),
    };
    const refuse = async (reason: string): Promise<never> => {
      await this.audit.record({
        ...about,
        outcome: 'failure',
        details: { reason, via: 'password_change_token' },
      });
      throw invalidToken(reason);
    };
    const user = await this.users.findById(grant.userId);
    const candidate = user?.active ? await this.users.findLoginCandidate(user.username) : undefined;
    if (!candidate) {
      return refuse('user_inactive');
    }
    if (!candidate.mustChangePassword) {
      // the password was changed already with this token (or another): a token works once
      return refuse('password_change_not_required');
    }
    if (await this.lockout.isLocked(candidate.id)) {
      return refuse('locked');
    }
    assertPasswordAcceptable(request.newPassword, candidate.username);
    if (await this.passwords.verify(candidate.passwordHash, request.newPassword)) {
      throw passwordUnchanged();
    }
    const hash = await this.passwords.hash(request.newPassword);
    // revoked before the change (none published: no change) and after the sessions ended; the second write waits
    // for validAfter's second to begin, so the tokens this call answers next stand
    const { sessionsEnded } = await this.signOut.aroundUser(
      { id: candidate.id, active: true },
      'password_changed',
      async () => {
        if (!(await this.users.setRequiredPassword(candidate.id, hash))) {
          await refuse('password_change_not_required');
        }
      },
    );
    await this.audit.record({
      ...about,
      outcome: 'success',
      details: { via: 'password_change_token', sessionsEnded },
    });
    const changed = await this.users.findById(candidate.id);
    if (!changed?.active) {
      return refuse('user_inactive');
    }

    return this.sessions.afterProof(changed, grant.method, { ip: request.ip, userAgent: request.userAgent });
  }
}
