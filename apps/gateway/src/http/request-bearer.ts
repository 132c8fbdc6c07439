import type { BearerVerifier, VerifiedToken } from '@vivified/auth';
import type { FastifyRequest } from 'fastify';

const verifications = new WeakMap<FastifyRequest, { bearer: string; verified: Promise<VerifiedToken> }>();

/**
 * Verifies a request's bearer token once per request: the rate limit (which counts by verified principal) and the
 * edge guard share the one verification instead of repeating it.
 */
export function verifyRequestBearer(
  request: FastifyRequest,
  bearer: string,
  verifier: BearerVerifier,
): Promise<VerifiedToken> {
  const known = verifications.get(request);
  if (known?.bearer === bearer) {
    return known.verified;
  }
  const verified = verifier.verify(bearer);
  // whoever awaits it handles a failure; a verification nobody awaits again must not be an unhandled rejection
  verified.catch(() => undefined);
  verifications.set(request, { bearer, verified });

  return verified;
}
