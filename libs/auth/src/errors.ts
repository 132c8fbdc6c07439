import { ErrorCode, VivifiedError } from '@vivified/contracts';

/** Why a token was refused (the `reason` of an `UNAUTHENTICATED` error). */
export type TokenRejection =
  | 'token_missing'
  | 'token_malformed'
  | 'alg_not_allowed'
  | 'kid_missing'
  | 'kid_unknown'
  | 'signature_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'claims_invalid'
  /** A user token issued before the user's tokens were revoked, or of a deactivated user (the policy sidecar). */
  | 'token_revoked';

/** Why an authenticated caller was refused (the `reason` of a `POLICY_DENIED` error). */
export type AccessDenial =
  | 'principal_kind_not_allowed'
  | 'trait_missing'
  | 'phi_trait_missing'
  | 'pii_trait_missing'
  | 'confidential_trait_missing';

/** The error of every refused token: one message, the cause in `reason` only. */
export function invalidToken(reason: TokenRejection, cause?: unknown): VivifiedError {
  const message = reason === 'token_missing' ? 'authentication required' : 'invalid token';

  return new VivifiedError(ErrorCode.Unauthenticated, message, {
    reason,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The error of every refused caller. */
export function accessDenied(reason: AccessDenial): VivifiedError {
  return new VivifiedError(ErrorCode.PolicyDenied, 'access denied', { reason });
}

/** The error while no signing key is known yet (identity has not published any, or the bucket is unreachable). */
export function keysUnavailable(cause?: unknown): VivifiedError {
  return new VivifiedError(ErrorCode.Unavailable, 'token verification keys unavailable', {
    reason: 'keys_unavailable',
    ...(cause === undefined ? {} : { cause }),
  });
}
