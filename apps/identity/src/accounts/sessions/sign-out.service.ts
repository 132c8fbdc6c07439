import { Inject, Injectable } from '@nestjs/common';
import type { LogoutAllReply } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';

import type { SignedOut, SignOut, TokenIssuer } from '../ports';
import { TOKEN_ISSUER } from '../ports';
import { AccountsAudit } from '../accounts-audit';
import type { UserCaller } from '../caller';
import { userTarget } from '../caller';
import { UsersRepository } from '../users/users.repository';
import { SessionRevocations } from './session-revocations';

/** Why a user was signed out everywhere: the reason of its revocation, of its ended sessions and of the audit. */
export const signOutReasons = {
  totpDisabled: 'totp_disabled',
  logoutAll: 'logout_all',
} as const;

/**
 * Signs a user out everywhere — every session ends (PostgreSQL) and every access token issued up to now is refused
 * at every service (`vivified_sessions`) — around a change that weakens how the user signs in (TOTP off, a passkey
 * removed), and for log out everywhere. The order of a password change: revoked before the change (none published:
 * no change), then the change, the sessions, and revoked again (a token refreshed in between), which waits until
 * the tokens issued next are valid.
 */
@Injectable()
export class SignOutService implements SignOut {
  constructor(
    private readonly users: UsersRepository,
    @Inject(TOKEN_ISSUER) private readonly tokens: TokenIssuer,
    private readonly revocations: SessionRevocations,
    private readonly audit: AccountsAudit,
  ) {}

  async around<T>(userId: string, reason: string, change: () => Promise<T>): Promise<SignedOut<T>> {
    const user = await this.users.findById(userId);
    if (!user?.active) {
      // nothing is written for an inactive user: a revocation never reactivates anyone
      throw new VivifiedError(ErrorCode.Unauthenticated, 'a signed-in user is required', {
        reason: 'user_inactive',
      });
    }

    return this.aroundUser(user, reason, change);
  }

  /**
   * {@link around} for a user the caller has already read (its own password change, an admin's reset of another
   * user, active or not — `active` is kept in the revocation entry): revoked before `change` (none published: no
   * change; a throwing `change` stops there too), then the sessions end and the tokens are revoked again.
   */
  async aroundUser<T>(
    user: { id: string; active: boolean },
    reason: string,
    change: () => Promise<T>,
  ): Promise<SignedOut<T>> {
    await this.revocations.revokeTokensBeforeChange(user.id, user.active, reason);
    const result = await change();
    const sessionsEnded = await this.tokens.revokeUserSessions(user.id, reason);
    await this.revocations.revokeTokens(user.id, user.active, reason);

    return { result, sessionsEnded };
  }

  /** Log out everywhere: every session and access token of the caller ends; audited with reason `logout_all`. */
  async everywhere(caller: UserCaller): Promise<LogoutAllReply> {
    const { sessionsEnded } = await this.around(caller.userId, signOutReasons.logoutAll, () =>
      Promise.resolve(),
    );
    await this.audit.record({
      category: 'auth',
      action: 'session.logout_all',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(caller.userId),
      details: { reason: signOutReasons.logoutAll, sessionsEnded },
    });

    return { sessionsEnded };
  }
}
