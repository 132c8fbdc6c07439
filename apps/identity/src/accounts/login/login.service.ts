import { Injectable } from '@nestjs/common';
import type { LoginReply, LoginRequest } from '@vivified/contracts';
import { ErrorCode, LOGIN_THROTTLED_REASON, VivifiedError } from '@vivified/contracts';

import type { SessionContext } from '../ports';
import type { LoginAuditReason } from '../accounts-audit';
import { AccountsAudit } from '../accounts-audit';
import { userActor, userTarget } from '../caller';
import { SecondFactorService } from '../mfa/second-factor.service';
import { PasswordHasher } from '../password/password-hasher';
import type { LoginCandidate } from '../users/users.repository';
import { UsersRepository } from '../users/users.repository';
import { LockoutService } from './lockout.service';
import { SessionOpener } from './session-opener.service';
import { ThrottleService } from './throttle.service';

/** The one answer to every failed login: nothing tells an unknown user from a wrong password or a lock. */
export function invalidCredentials(): VivifiedError {
  return new VivifiedError(ErrorCode.Unauthenticated, 'invalid credentials', {
    reason: 'invalid_credentials',
  });
}

const ANONYMOUS = { kind: 'anonymous', id: 'anonymous' } as const;

/**
 * Password login with TOTP or backup codes, per-account lockout and per-address throttling (docs/identity.md
 * "Login"). Every attempt is audited with its reason; every failure answers the same error after the same work.
 * Once the password (and an enrolled second factor) is right, {@link SessionOpener.afterProof} decides what comes
 * next: a required password change, then a required MFA enrolment, then the session.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly throttle: ThrottleService,
    private readonly secondFactor: SecondFactorService,
    private readonly sessions: SessionOpener,
    private readonly audit: AccountsAudit,
  ) {}

  async login(request: LoginRequest): Promise<LoginReply> {
    if (request.totp !== undefined && request.backupCode !== undefined) {
      throw new VivifiedError(ErrorCode.BadRequest, 'send either totp or backupCode, not both', {
        reason: 'second_factor_ambiguous',
      });
    }
    const { ip } = request;
    const verdict = await this.throttle.verdict(ip);
    if (verdict.throttled) {
      await this.audit.login({ outcome: 'denied', reason: 'throttled', actor: ANONYMOUS, ip });
      throw new VivifiedError(
        ErrorCode.RateLimited,
        `too many failed logins, retry in ${verdict.retryAfterSeconds} s`,
        {
          reason: LOGIN_THROTTLED_REASON,
          details: [{ path: 'retryAfterSeconds', messages: [String(verdict.retryAfterSeconds)] }],
        },
      );
    }
    const username = request.username.trim().toLowerCase();
    const user = await this.users.findLoginCandidate(username);
    if (!user?.active) {
      // the same argon2 work as a real check, so timing does not tell whether the account exists
      if (user) {
        await this.passwords.verify(user.passwordHash, request.password);

        return this.fail('inactive', user, ip);
      }
      await this.passwords.verifyDummy(request.password);

      return this.fail('unknown_user', undefined, ip, username);
    }
    const passwordOk = await this.passwords.verify(user.passwordHash, request.password);
    // checked after the hash, so a locked account answers as slowly as any other
    if (await this.lockout.isLocked(user.id)) {
      return this.fail('locked', user, ip);
    }
    if (!passwordOk) {
      return this.failAndCount('bad_password', user, ip);
    }

    let method: SessionContext['method'] = 'password';
    if (user.mfaEnrolled) {
      if (request.totp !== undefined) {
        if (!(await this.secondFactor.acceptTotp(user.id, request.totp))) {
          return this.failAndCount('bad_totp', user, ip);
        }
        method = 'password+totp';
      } else if (request.backupCode !== undefined) {
        if (!(await this.secondFactor.consumeBackupCode(user.id, request.backupCode))) {
          return this.failAndCount('bad_backup_code', user, ip);
        }
        method = 'password+backup_code';
      } else {
        // the password was right, but the counters are cleared only by a complete login
        await this.audit.login({ ...this.about(user, ip), outcome: 'denied', reason: 'mfa_required' });

        return { mfaRequired: true };
      }
    }

    return this.sessions.afterProof(user, method, { ip, userAgent: request.userAgent }, request.password);
  }

  private about(user: LoginCandidate, ip: string | undefined) {
    return { actor: userActor(user.id), target: userTarget(user.id), ip };
  }

  private async failAndCount(
    reason: LoginAuditReason,
    user: LoginCandidate,
    ip: string | undefined,
  ): Promise<never> {
    const lockedNow = await this.lockout.recordFailure(user.id);

    return this.fail(reason, user, ip, undefined, lockedNow);
  }

  private async fail(
    reason: LoginAuditReason,
    user: LoginCandidate | undefined,
    ip: string | undefined,
    unknownUsername?: string,
    lockedNow?: boolean,
  ): Promise<never> {
    await this.throttle.recordFailure(ip);
    await this.audit.login({
      ...(user ? this.about(user, ip) : { actor: ANONYMOUS, ip }),
      outcome: reason === 'locked' ? 'denied' : 'failure',
      reason,
      ...(unknownUsername === undefined ? {} : { unknownUsername }),
      ...(lockedNow ? { lockedNow } : {}),
    });
    throw invalidCredentials();
  }
}
