import { Injectable } from '@nestjs/common';
import type {
  UserMfaResetReply,
  UserMfaResetRequest,
  UserPasswordResetReply,
  UserPasswordResetRequest,
} from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { randomToken } from '@vivified/crypto';

import { AccountsAudit } from '../accounts-audit';
import type { UserCaller } from '../caller';
import { userTarget } from '../caller';
import { LockoutService } from '../login/lockout.service';
import { MfaRepository } from '../mfa/mfa.repository';
import { PasswordHasher } from '../password/password-hasher';
import { assertPasswordAcceptable } from '../password/password-policy';
import { SignOutService } from '../sessions/sign-out.service';
import type { UserRecord } from './users.repository';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/** Bytes of a generated one-time password (24 base64url characters, as the first admin's). */
const ONE_TIME_PASSWORD_BYTES = 18;

const notFound = () => new VivifiedError(ErrorCode.NotFound, 'no such user', { reason: 'user_not_found' });

type ResetAction = 'user.password.reset' | 'user.mfa.reset';

/**
 * An admin's password and MFA resets of another account (docs/identity.md "Admin resets"). Both end every session
 * of the user, both are audited in category `user` without any secret, and neither acts on the caller's own
 * account (the caller uses the normal flows: `POST /v1/auth/password`, TOTP disable/enable, passkey removal).
 */
@Injectable()
export class AccountResetService {
  constructor(
    private readonly users: UsersRepository,
    private readonly views: UsersService,
    private readonly passwords: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly mfa: MfaRepository,
    private readonly audit: AccountsAudit,
    private readonly signOut: SignOutService,
  ) {}

  /**
   * Sets a one-time password (the given one, or a generated one answered once), flags the account so its next
   * login must change it, ends every session and lifts a lockout.
   */
  async resetPassword(
    caller: UserCaller,
    request: UserPasswordResetRequest,
  ): Promise<UserPasswordResetReply> {
    const user = await this.target(caller, request.id, 'user.password.reset');
    if (request.password !== undefined) {
      assertPasswordAcceptable(request.password, user.username);
    }
    const password = request.password ?? randomToken(ONE_TIME_PASSWORD_BYTES);
    const hash = await this.passwords.hash(password);
    // every access token of the user is revoked before the reset (none published: no reset) and after its
    // sessions ended (a token refreshed in between)
    const { sessionsEnded } = await this.signOut.aroundUser(user, 'password_reset', async () => {
      if (!(await this.users.setOneTimePassword(user.id, hash))) {
        throw notFound();
      }
    });
    await this.lockout.clear(user.id);
    const generated = request.password === undefined;
    await this.audit.record({
      category: 'user',
      action: 'user.password.reset',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(user.id),
      details: { generated, sessionsEnded, lockoutCleared: true },
    });

    return {
      user: await this.views.get(user.id),
      ...(generated ? { oneTimePassword: password } : {}),
      sessionsEnded,
    };
  }

  /**
   * Removes TOTP (enabled or pending) and the backup codes, and every passkey when asked; ends every session. A
   * role that needs MFA enrols again at the next login.
   */
  async resetMfa(caller: UserCaller, request: UserMfaResetRequest): Promise<UserMfaResetReply> {
    const user = await this.target(caller, request.id, 'user.mfa.reset');
    const passkeys = request.passkeys ?? false;
    const { result: removed, sessionsEnded } = await this.signOut.aroundUser(user, 'mfa_reset', () =>
      this.mfa.reset(user.id, passkeys),
    );
    await this.audit.record({
      category: 'user',
      action: 'user.mfa.reset',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(user.id),
      // counts only; named so the audit sanitizer (which masks any `backupCode…` key) keeps the number
      details: {
        totpRemoved: removed.totpRemoved,
        recoveryCodesRemoved: removed.backupCodesRemoved,
        passkeysRemoved: removed.passkeysRemoved,
        passkeysRequested: passkeys,
        sessionsEnded,
      },
    });

    return { user: await this.views.get(user.id), ...removed, sessionsEnded };
  }

  /**
   * The account to reset, refusing the caller's own. Another admin's account may be reset (that is how an admin who
   * lost its authenticator gets back in); only admins reach this, as `user_manager` requires `admin`.
   */
  private async target(caller: UserCaller, id: string, action: ResetAction): Promise<UserRecord> {
    const user = await this.users.findById(id);
    if (!user) {
      throw notFound();
    }
    if (user.id === caller.userId) {
      await this.denied(caller, user, action, 'self_reset');
      throw new VivifiedError(
        ErrorCode.Conflict,
        'you cannot reset your own account here: change your password or MFA through your own account',
        { reason: 'self_reset' },
      );
    }

    return user;
  }

  private async denied(
    caller: UserCaller,
    user: UserRecord,
    action: ResetAction,
    reason: string,
  ): Promise<void> {
    await this.audit.record({
      category: 'user',
      action,
      outcome: 'denied',
      actor: caller.actor,
      target: userTarget(user.id),
      details: { reason },
    });
  }
}
