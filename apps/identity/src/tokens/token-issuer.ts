import { Injectable } from '@nestjs/common';
import type { TokenPair } from '@vivified/contracts';
import { ErrorCode, tokenContract, VivifiedError } from '@vivified/contracts';

import type { PasswordChangeGrant, SessionContext, TokenIssuer, UserSnapshot } from '../identity.ports';
import { isSessionMethod } from '../identity.ports';
import { SessionsService } from './sessions.service';
import { TokenSigner } from './token-signer.service';

/** The {@link TokenIssuer} port the accounts half uses after a successful login. */
@Injectable()
export class TokenIssuerAdapter implements TokenIssuer {
  constructor(
    private readonly sessions: SessionsService,
    private readonly signer: TokenSigner,
  ) {}

  startSession(user: UserSnapshot, context: SessionContext): Promise<TokenPair> {
    return this.sessions.start(user, context);
  }

  async enrollmentToken(user: UserSnapshot): Promise<string> {
    // no traits: the token opens TOTP enrolment and nothing else
    const { token } = await this.signer.sign({
      sub: `user:${user.id}`,
      typ: 'user',
      traits: [],
      audience: tokenContract.enrollmentAudience,
      lifetime: tokenContract.lifetimes.enrollment,
    });

    return token;
  }

  verifyEnrollmentToken(token: string): Promise<string> {
    return this.signer.verifyEnrollment(token);
  }

  async passwordChangeToken(user: UserSnapshot, method: SessionContext['method']): Promise<string> {
    // no traits: the token opens the required password change and nothing else
    const { token } = await this.signer.sign({
      sub: `user:${user.id}`,
      typ: 'user',
      traits: [],
      audience: tokenContract.passwordChangeAudience,
      lifetime: tokenContract.lifetimes.passwordChange,
      method,
    });

    return token;
  }

  async verifyPasswordChangeToken(token: string): Promise<PasswordChangeGrant> {
    const { userId, method } = await this.signer.verifyPasswordChange(token);
    if (!isSessionMethod(method)) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid password-change token', {
        reason: 'claims_invalid',
      });
    }

    return { userId, method };
  }

  revokeUserSessions(userId: string, reason: string): Promise<number> {
    return this.sessions.revokeAllOfUser(userId, reason);
  }
}
