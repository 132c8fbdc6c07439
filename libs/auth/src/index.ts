export { AuthGuard, authenticateAuthorization, bearerToken, checkAccess, parseBearer } from './auth-guard';
export type { AuthGuardOptions } from './auth-guard';
export { accessDenied, invalidToken, keysUnavailable } from './errors';
export type { AccessDenial, TokenRejection } from './errors';
export { JwksKeyStore } from './jwks-key-store';
export type { JwksKeyStoreOptions } from './jwks-key-store';
export { ServiceTokenProvider } from './service-token-provider';
export type { ServiceTokenProviderOptions, TokenRequester } from './service-token-provider';
export { TokenVerifier } from './token-verifier';
export type {
  BearerVerifier,
  KeyResolver,
  TokenVerifierOptions,
  VerificationKey,
  VerifiedToken,
} from './token-verifier';
