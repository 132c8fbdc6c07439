import { Injectable } from '@nestjs/common';
import { bearerToken, TokenVerifier } from '@vivified/auth';
import type { TokenClaims } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { NatsRequestContext, Principal } from '@vivified/nats-transport';

import { AccountsAudit } from '../accounts-audit';
import { userActor, userCaller, userTarget } from '../caller';
import type { CredentialTarget, InteractiveSessions } from '../ports';
import { isSessionMethod } from '../ports';

/** The reason of the refusal a token without an interactive session gets from credential management. */
export const INTERACTIVE_SESSION_REQUIRED = 'interactive_session_required';

/**
 * Whether an interactive login opened the session of a user access token: it belongs to a session (`sid`) and
 * every method of its `amr` is a login method of a session. A token exchanged for an API key has no session and
 * `amr: ['api_key']` (before the claim existed it had neither); a session's token signed before then has a `sid`
 * and no `amr`.
 */
export function isInteractive(claims: TokenClaims): boolean {
  if (claims.typ !== 'user' || claims.sid === undefined) {
    return false;
  }

  return claims.amr === undefined || (claims.amr.length > 0 && claims.amr.every(isSessionMethod));
}

/**
 * The {@link InteractiveSessions} port: reads how the caller's access token was obtained from its claims (the
 * guard verified the same token with the same verifier, so this is a cache hit) and refuses credential management
 * to a token no interactive login opened (docs/identity.md "Credential management needs an interactive session").
 */
@Injectable()
export class InteractiveSessionGate implements InteractiveSessions {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly audit: AccountsAudit,
  ) {}

  async caller(ctx: NatsRequestContext, action: string, on?: CredentialTarget): Promise<Principal> {
    const caller = ctx.principal;
    const { userId } = userCaller(caller);
    const bearer = bearerToken(ctx.headers);
    if (caller === undefined || bearer === undefined) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid token', { reason: 'token_missing' });
    }
    const { principal, claims } = await this.verifier.verify(bearer);
    if (principal.kind !== 'user' || userCaller(principal).userId !== userId) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid token', { reason: 'claims_invalid' });
    }
    await this.require(claims, userId, action, on);

    return caller;
  }

  /**
   * Refuses `action` of `userId` unless the verified `claims` are of an interactive session: `POLICY_DENIED`
   * `interactive_session_required`, audited `denied` with the token's `amr` — on the caller's own account, or on
   * the account `on` names (an admin reset).
   */
  async require(claims: TokenClaims, userId: string, action: string, on?: CredentialTarget): Promise<void> {
    if (isInteractive(claims)) {
      return;
    }
    await this.audit.record({
      category: on?.category ?? 'auth',
      action,
      outcome: 'denied',
      actor: userActor(userId),
      target: userTarget(on?.userId ?? userId),
      details: { reason: INTERACTIVE_SESSION_REQUIRED, amr: [...(claims.amr ?? [])] },
    });
    throw new VivifiedError(
      ErrorCode.PolicyDenied,
      'this needs a session of an interactive login (password, TOTP or passkey), not an API key',
      { reason: INTERACTIVE_SESSION_REQUIRED },
    );
  }
}
