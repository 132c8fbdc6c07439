/** What the accounts half uses of the service around it, re-exported for its sub-folders (one import level). */
export {
  INTERACTIVE_SESSIONS,
  isSessionMethod,
  SIGN_OUT,
  TOKEN_ISSUER,
  USER_DIRECTORY,
} from '../identity.ports';
export type {
  CredentialTarget,
  InteractiveSessions,
  LoginStanding,
  PasswordChangeGrant,
  SessionContext,
  SignedOut,
  SignOut,
  TokenIssuer,
  UserDirectory,
  UserSnapshot,
} from '../identity.ports';
export type { IdentityConfig } from '../config';
