import { Inject, Injectable } from '@nestjs/common';
import type {
  TotpEnableReply,
  TotpEnableRequest,
  TotpSetupReply,
  TotpSetupRequest,
} from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';

import type { AccountsClock } from '../accounts.clock';
import { ACCOUNTS_CLOCK } from '../accounts.clock';
import { AccountsAudit } from '../accounts-audit';
import { userActor, userTarget } from '../caller';
import { SessionOpener } from '../login/session-opener.service';
import type { UserRecord } from '../users/users.repository';
import { UsersRepository } from '../users/users.repository';
import type { EnrollingUser, EnrollmentRequest } from './enrollment-callers';
import { EnrollmentCallers } from './enrollment-callers';
import { MfaRepository } from './mfa.repository';
import { SecondFactorService } from './second-factor.service';
import { newTotpSecret, otpauthUrl } from './totp';

const alreadyEnrolled = () =>
  new VivifiedError(ErrorCode.Conflict, 'TOTP is already enabled', { reason: 'mfa_already_enrolled' });

/**
 * TOTP enrolment: setup stores a pending secret, enable confirms it with a first code, answers ten backup codes
 * and, when enrolment came from a login, opens the session that login could not.
 */
@Injectable()
export class TotpEnrollmentService {
  constructor(
    private readonly callers: EnrollmentCallers,
    private readonly users: UsersRepository,
    private readonly repository: MfaRepository,
    private readonly secondFactor: SecondFactorService,
    private readonly sessions: SessionOpener,
    private readonly audit: AccountsAudit,
    @Inject(ACCOUNTS_CLOCK) private readonly clock: AccountsClock,
  ) {}

  async setup(request: TotpSetupRequest, context: EnrollmentRequest): Promise<TotpSetupReply> {
    const { user } = await this.enrolling(request.enrollmentToken, context, 'mfa.totp.setup');
    const secret = newTotpSecret();
    const stored = await this.repository.setPending(
      user.id,
      await this.secondFactor.seal(user.id, secret),
      new Date(this.clock.now()),
    );
    if (!stored) {
      throw alreadyEnrolled();
    }
    await this.audit.record({
      category: 'auth',
      action: 'mfa.totp.setup',
      outcome: 'success',
      actor: userActor(user.id),
      target: userTarget(user.id),
    });

    return { secret, otpauthUrl: otpauthUrl(secret, user.username) };
  }

  async enable(request: TotpEnableRequest, context: EnrollmentRequest): Promise<TotpEnableReply> {
    const { user, via } = await this.enrolling(request.enrollmentToken, context, 'mfa.totp.enable');
    const totp = await this.repository.totp(user.id);
    if (!totp?.pendingSealed) {
      throw new VivifiedError(ErrorCode.BadRequest, 'no TOTP setup in progress: call setup first', {
        reason: 'mfa_setup_missing',
      });
    }
    const step = await this.secondFactor.matchPending(
      user.id,
      totp.pendingSealed,
      request.code,
      totp.lastStep,
    );
    if (step === undefined) {
      await this.audit.record({
        category: 'auth',
        action: 'mfa.totp.enable',
        outcome: 'failure',
        actor: userActor(user.id),
        target: userTarget(user.id),
        details: { reason: 'bad_totp' },
      });
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid code', { reason: 'invalid_code' });
    }
    const { codes, hashes } = this.secondFactor.newBackupCodes(user.id);
    if (
      !(await this.repository.enable(user.id, totp.pendingSealed, step, hashes, new Date(this.clock.now())))
    ) {
      throw alreadyEnrolled();
    }
    await this.audit.record({
      category: 'auth',
      action: 'mfa.totp.enable',
      outcome: 'success',
      actor: userActor(user.id),
      target: userTarget(user.id),
      details: { codesIssued: codes.length, via },
    });
    if (via === 'session') {
      return { backupCodes: codes };
    }
    const pair = await this.sessions.open(user, 'totp_enrollment', {
      ip: request.ip,
      userAgent: request.userAgent,
    });

    return { backupCodes: codes, ...pair };
  }

  /** The active, not yet enrolled user behind the request. */
  private async enrolling(
    enrollmentToken: string | undefined,
    context: EnrollmentRequest,
    action: string,
  ): Promise<EnrollingUser & { user: UserRecord }> {
    const caller = await this.callers.resolve(enrollmentToken, context, action);
    const user = await this.users.findById(caller.userId);
    if (!user?.active) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid token', { reason: 'user_inactive' });
    }
    if (user.mfaEnrolled) {
      throw alreadyEnrolled();
    }
    if (caller.via === 'enrollment' && user.mustChangePassword) {
      // password first, then MFA: an enrolment token from before an admin's password reset opens nothing
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid token', {
        reason: 'password_change_required',
      });
    }

    return { ...caller, user };
  }
}
