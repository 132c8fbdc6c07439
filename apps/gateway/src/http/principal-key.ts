import type { BearerVerifier } from '@vivified/auth';
import type { FastifyRequest } from 'fastify';

import { callerOf } from './caller.decorator';
import type { PrincipalKeyResolver } from './http-setup';
import { verifyRequestBearer } from './request-bearer';

/**
 * The rate-limit identity of a request: the verified principal of its bearer token. Anything else — no token, an
 * invalid one, an API key (unverified at this point) — counts by address, so made-up credentials cannot buy fresh
 * limits.
 */
export function principalKeyResolver(verifier: BearerVerifier): PrincipalKeyResolver {
  return async (request: FastifyRequest) => {
    const caller = callerOf(request);
    if (caller.bearer) {
      try {
        const { principal } = await verifyRequestBearer(request, caller.bearer, verifier);

        return `${principal.kind}:${principal.id}`;
      } catch {
        return undefined;
      }
    }

    return undefined;
  };
}
