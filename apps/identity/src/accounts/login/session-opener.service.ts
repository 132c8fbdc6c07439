import { Inject, Injectable } from '@nestjs/common';
import type { LoginReply, TokenPair } from '@vivified/contracts';

import type { SessionContext, TokenIssuer } from '../ports';
import { TOKEN_ISSUER } from '../ports';
import { AccountsAudit } from '../accounts-audit';
import { userActor, userTarget } from '../caller';
import { PasswordHasher } from '../password/password-hasher';
import { toSnapshot } from '../users/user-views';
import type { LoginCandidate, UserRecord } from '../users/users.repository';
import { UsersRepository } from '../users/users.repository';
import { LockoutService } from './lockout.service';

/** Where a login came from, as the gateway reported it. */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

/** Ends a complete login (password and, when due, a second factor) by opening a session at the token half. */
@Injectable()
export class SessionOpener {
  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly lockout: LockoutService,
    @Inject(TOKEN_ISSUER) private readonly tokens: TokenIssuer,
    private readonly audit: AccountsAudit,
  ) {}

  /**
   * Clears the failure counters, records the login, replaces a password hash of an older cost when the password
   * is at hand, opens the session and audits the successful login.
   */
  async open(
    user: UserRecord | LoginCandidate,
    method: SessionContext['method'],
    client: ClientInfo,
    password?: string,
  ): Promise<TokenPair> {
    await this.lockout.clear(user.id);
    await this.users.markLogin(user.id);
    if (password !== undefined && 'passwordHash' in user && this.passwords.needsRehash(user.passwordHash)) {
      await this.users.updatePasswordHash(user.id, await this.passwords.hash(password));
    }
    const pair = await this.tokens.startSession(toSnapshot(user), {
      method,
      ...(client.ip === undefined ? {} : { ip: client.ip }),
      ...(client.userAgent === undefined ? {} : { userAgent: client.userAgent }),
    });
    await this.audit.login({
      actor: userActor(user.id),
      target: userTarget(user.id),
      outcome: 'success',
      reason: 'ok',
      method,
      ip: client.ip,
    });

    return pair;
  }

  /**
   * What a user who has just proved who they are (`method`) gets, in this order: a password-change token when a
   * one-time password must be changed; an enrolment token when a role needs MFA and none is enrolled (not after a
   * passkey login, which is multi-factor by itself); else the session. Only the session clears the counters.
   */
  async afterProof(
    user: UserRecord | LoginCandidate,
    method: SessionContext['method'],
    client: ClientInfo,
    password?: string,
  ): Promise<LoginReply> {
    const about = { actor: userActor(user.id), target: userTarget(user.id), ip: client.ip };
    if (user.mustChangePassword) {
      const passwordChangeToken = await this.tokens.passwordChangeToken(toSnapshot(user), method);
      await this.audit.login({ ...about, outcome: 'denied', reason: 'password_change_required', method });

      return { passwordChangeRequired: true, passwordChangeToken };
    }
    if (user.mfaRequired && !user.mfaEnrolled && method !== 'webauthn') {
      const enrollmentToken = await this.tokens.enrollmentToken(toSnapshot(user));
      await this.audit.login({ ...about, outcome: 'denied', reason: 'mfa_enrollment_required' });

      return { mfaEnrollmentRequired: true, enrollmentToken };
    }

    return this.open(user, method, client, password);
  }
}
