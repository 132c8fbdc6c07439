import { Inject, Injectable } from '@nestjs/common';
import { bearerToken } from '@vivified/auth';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { NatsRequestContext } from '@vivified/nats-transport';
import { PolicySidecar } from '@vivified/policy-sidecar';

import type { TokenIssuer } from '../ports';
import { TOKEN_ISSUER } from '../ports';
import { InteractiveSessionGate } from '../sessions/interactive-session-gate';

/** Who is enrolling, and how they proved it. */
export interface EnrollingUser {
  userId: string;
  /** `enrollment`: an enrolment token from a login (the session opens when enrolment completes). */
  via: 'enrollment' | 'session';
}

/** What a TOTP setup/enable request brings besides its body: its subject and headers (the bearer, `traceparent`). */
export type EnrollmentRequest = Pick<NatsRequestContext, 'subject' | 'headers'>;

/**
 * Identifies the caller of the public TOTP setup/enable contracts: by the enrolment token in the body (first
 * login), else by the access token of the `Authorization` header. A public contract passes no guard, so the
 * sidecar's first step runs here (docs/identity.md "MFA"): the token verified and, for a user, not revoked in
 * `vivified_sessions` (`UNAUTHENTICATED` `token_revoked`, audited as the guard audits it); that token must then be
 * of an interactive session, not an API key's.
 */
@Injectable()
export class EnrollmentCallers {
  constructor(
    @Inject(TOKEN_ISSUER) private readonly tokens: TokenIssuer,
    private readonly interactive: InteractiveSessionGate,
    private readonly sidecar: PolicySidecar,
  ) {}

  /** The enrolling user; `action` names the step in the audit record of a refused token. */
  async resolve(
    enrollmentToken: string | undefined,
    request: EnrollmentRequest,
    action: string,
  ): Promise<EnrollingUser> {
    if (enrollmentToken !== undefined) {
      return { userId: await this.tokens.verifyEnrollmentToken(enrollmentToken), via: 'enrollment' };
    }
    if (bearerToken(request.headers) === undefined) {
      throw required();
    }
    const { principal, claims } = await this.sidecar.authenticate({
      subject: request.subject,
      headers: request.headers,
      action,
    });
    if (principal.kind !== 'user') {
      throw required();
    }
    await this.interactive.require(claims, principal.id, action);

    return { userId: principal.id, via: 'session' };
  }
}

const required = () =>
  new VivifiedError(ErrorCode.Unauthenticated, 'an enrolment token or a user access token is required', {
    reason: 'token_missing',
  });
