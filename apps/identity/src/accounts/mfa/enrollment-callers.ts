import { Inject, Injectable, Optional } from '@nestjs/common';
import { TokenVerifier } from '@vivified/auth';
import { ErrorCode, VivifiedError } from '@vivified/contracts';

import type { TokenIssuer } from '../ports';
import { TOKEN_ISSUER } from '../ports';
import { InteractiveSessionGate } from '../sessions/interactive-session-gate';

/** Who is enrolling, and how they proved it. */
export interface EnrollingUser {
  userId: string;
  /** `enrollment`: an enrolment token from a login (the session opens when enrolment completes). */
  via: 'enrollment' | 'session';
}

/**
 * Identifies the caller of the public TOTP setup/enable contracts: by the enrolment token in the body (first
 * login), else by the access token of the `Authorization` header, verified here because a public contract passes
 * no guard (docs/identity.md "MFA"); that token must be of an interactive session, not an API key's.
 */
@Injectable()
export class EnrollmentCallers {
  constructor(
    @Inject(TOKEN_ISSUER) private readonly tokens: TokenIssuer,
    private readonly interactive: InteractiveSessionGate,
    @Optional() private readonly verifier?: TokenVerifier,
  ) {}

  /** The enrolling user; `action` names the step in the audit record of a refused API-key token. */
  async resolve(
    enrollmentToken: string | undefined,
    bearer: string | undefined,
    action: string,
  ): Promise<EnrollingUser> {
    if (enrollmentToken !== undefined) {
      return { userId: await this.tokens.verifyEnrollmentToken(enrollmentToken), via: 'enrollment' };
    }
    if (bearer !== undefined && this.verifier) {
      const { principal, claims } = await this.verifier.verify(bearer);
      if (principal.kind === 'user') {
        await this.interactive.require(claims, principal.id, action);

        return { userId: principal.id, via: 'session' };
      }
    }
    throw new VivifiedError(
      ErrorCode.Unauthenticated,
      'an enrolment token or a user access token is required',
      {
        reason: 'token_missing',
      },
    );
  }
}
