import type { TokenPair } from '@vivified/contracts';

/**
 * The seams between identity's two halves: accounts (users, passwords, MFA, passkeys) and tokens (signing
 * keys, sessions, plugin/service/API-key tokens). Each half provides one port and injects the other's.
 */

/** A user as the token half sees it. */
export interface UserSnapshot {
  /** UUID. */
  id: string;
  username: string;
  /** Role names. */
  roles: string[];
  /** Effective traits: the union of the roles' traits. */
  traits: string[];
  /** False once deactivated. */
  active: boolean;
}

/** Looks users up for the token half (refresh re-reads roles; a deactivated user cannot refresh). */
export interface UserDirectory {
  /** The user when it exists and is active. */
  findActive(userId: string): Promise<UserSnapshot | undefined>;
  /** The user of this username when it exists and is active. */
  findActiveByUsername(username: string): Promise<UserSnapshot | undefined>;
}

/** Injection token of the {@link UserDirectory} (provided by the accounts module). */
export const USER_DIRECTORY = Symbol('USER_DIRECTORY');

/** How a session was opened, for the audit trail and the session row. */
export interface SessionContext {
  method: 'password' | 'password+totp' | 'password+backup_code' | 'totp_enrollment' | 'webauthn';
  /** Client address as the gateway saw it. */
  ip?: string;
  userAgent?: string;
}

/** Issues what the accounts half hands out after a successful login. */
export interface TokenIssuer {
  /** Opens a session: an access token and the first refresh token of a new family. */
  startSession(user: UserSnapshot, context: SessionContext): Promise<TokenPair>;
  /** Signs an MFA enrolment token (audience `tokenContract.enrollmentAudience`, 10 min). */
  enrollmentToken(user: UserSnapshot): Promise<string>;
  /** Verifies an enrolment token and answers the user id; throws `Unauthenticated` otherwise. */
  verifyEnrollmentToken(token: string): Promise<string>;
  /** Ends every session of a user (deactivation, password change); answers how many ended. */
  revokeUserSessions(userId: string, reason: string): Promise<number>;
}

/** Injection token of the {@link TokenIssuer} (provided by the tokens module). */
export const TOKEN_ISSUER = Symbol('TOKEN_ISSUER');
