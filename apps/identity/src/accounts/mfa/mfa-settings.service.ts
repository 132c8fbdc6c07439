import { Injectable } from '@nestjs/common';
import type { BackupCodesReply, TotpDisableReply, TotpDisableRequest } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';

import { AccountsAudit } from '../accounts-audit';
import type { UserCaller } from '../caller';
import { userTarget } from '../caller';
import { SignOutService, signOutReasons } from '../sessions/sign-out.service';
import type { UserRecord } from '../users/users.repository';
import { UsersRepository } from '../users/users.repository';
import { MfaRepository } from './mfa.repository';
import { SecondFactorService } from './second-factor.service';

/** A signed-in user's own MFA settings: turning TOTP off (which signs the user out everywhere), new backup codes. */
@Injectable()
export class MfaSettingsService {
  constructor(
    private readonly users: UsersRepository,
    private readonly repository: MfaRepository,
    private readonly secondFactor: SecondFactorService,
    private readonly audit: AccountsAudit,
    private readonly signOut: SignOutService,
  ) {}

  /**
   * Turns TOTP off after a current code; refused while a role of the user requires MFA. The user is signed out
   * everywhere around the change: a session opened with the second factor must not outlive it.
   */
  async disableTotp(caller: UserCaller, request: TotpDisableRequest): Promise<TotpDisableReply> {
    const user = await this.enrolled(caller);
    if (user.mfaRequired) {
      throw new VivifiedError(ErrorCode.PolicyDenied, 'a role of this account requires MFA', {
        reason: 'mfa_required_by_role',
      });
    }
    if (!(await this.secondFactor.acceptTotp(user.id, request.code))) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid code', { reason: 'invalid_code' });
    }
    const { sessionsEnded } = await this.signOut.around(user.id, signOutReasons.totpDisabled, () =>
      this.repository.disable(user.id),
    );
    await this.audit.record({
      category: 'auth',
      action: 'mfa.totp.disable',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(user.id),
      details: { reason: signOutReasons.totpDisabled, sessionsEnded },
    });

    return { disabled: true, sessionsEnded };
  }

  /** Ten new backup codes; the old ones stop working. */
  async regenerateBackupCodes(caller: UserCaller): Promise<BackupCodesReply> {
    const user = await this.enrolled(caller);
    const { codes, hashes } = this.secondFactor.newBackupCodes(user.id);
    await this.repository.replaceBackupCodes(user.id, hashes);
    await this.audit.record({
      category: 'auth',
      action: 'mfa.backup-codes.regenerate',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(user.id),
      details: { count: codes.length },
    });

    return { backupCodes: codes };
  }

  private async enrolled(caller: UserCaller): Promise<UserRecord> {
    const user = await this.users.findById(caller.userId);
    if (!user?.active) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'a signed-in user is required', {
        reason: 'user_inactive',
      });
    }
    if (!user.mfaEnrolled) {
      throw new VivifiedError(ErrorCode.BadRequest, 'TOTP is not enabled', { reason: 'mfa_not_enrolled' });
    }

    return user;
  }
}
