/** What the accounts half uses of the service around it, re-exported for its sub-folders (one import level). */
export { SIGN_OUT, TOKEN_ISSUER, USER_DIRECTORY } from '../identity.ports';
export type {
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
