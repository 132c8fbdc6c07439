import type { TokenPair } from '@vivified/contracts';
import type { NatsRequestContext, Principal } from '@vivified/nats-transport';

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
  /**
   * What stands between a user who just proved a second-factor credential (a passkey) and a session, by the rules
   * of the password login: undefined for an unknown or inactive user.
   */
  loginStanding(userId: string): Promise<LoginStanding | undefined>;
  /** Records a complete login (a passkey login): clears the lockout counters and stamps the last login. */
  recordLogin(userId: string): Promise<void>;
}

/** A user's standing at login, for logins the accounts half does not run itself (passkeys). */
export interface LoginStanding {
  user: UserSnapshot;
  /** Locked after failed logins: no login opens a session until the lock ends or an admin lifts it. */
  locked: boolean;
  /** A one-time password is set: the login answers a password-change token instead of tokens. */
  mustChangePassword: boolean;
}

/** Injection token of the {@link UserDirectory} (provided by the accounts module). */
export const USER_DIRECTORY = Symbol('USER_DIRECTORY');

/** What a change made by {@link SignOut.around} answered, and how many sessions of the user ended with it. */
export interface SignedOut<T> {
  result: T;
  sessionsEnded: number;
}

/**
 * Signs a user out everywhere around a change of its own account that weakens how it signs in (TOTP off, a passkey
 * removed) or that asks for exactly that (log out everywhere); provided by the accounts half
 * (docs/identity-tokens.md "Revocation").
 */
export interface SignOut {
  /**
   * Revokes every access token of the user issued up to now (none published: `change` does not run), runs `change`,
   * ends every session and revokes again, then waits until tokens issued next are valid. `reason` names the change
   * in the revocation, the ended sessions and the logs. An unknown or inactive user is `UNAUTHENTICATED`
   * `user_inactive`, with nothing written.
   */
  around<T>(userId: string, reason: string, change: () => Promise<T>): Promise<SignedOut<T>>;
}

/** Injection token of the {@link SignOut} port (provided by the accounts module). */
export const SIGN_OUT = Symbol('SIGN_OUT');

/**
 * Credential management — the user's own password, TOTP, backup codes, passkeys and API keys, and signing out
 * everywhere — needs an access token of a session an interactive login opened (password, TOTP, passkey). A token
 * exchanged for an API key is for automation: a leaked key must not weaken or take over the account's credentials
 * (docs/identity.md "Credential management needs an interactive session"). Provided by the accounts half.
 */
export interface InteractiveSessions {
  /**
   * The caller of a guarded credential-management handler when its access token belongs to an interactive session;
   * otherwise `POLICY_DENIED` `interactive_session_required`, audited `denied` as `action` (category `auth`), so
   * the handler changes nothing. A caller that is not a user is `UNAUTHENTICATED` `user_required`. For an admin
   * action on another user's credentials, `on` names that user (the record's target) and the record's category.
   */
  caller(ctx: NatsRequestContext, action: string, on?: CredentialTarget): Promise<Principal>;
}

/** The account whose credentials an admin action changes, and the category its refusal is audited in. */
export interface CredentialTarget {
  userId: string;
  category: 'auth' | 'user';
}

/** Injection token of the {@link InteractiveSessions} port (provided by the accounts module). */
export const INTERACTIVE_SESSIONS = Symbol('INTERACTIVE_SESSIONS');

/** The ways a session is opened. */
export const sessionMethods = [
  'password',
  'password+totp',
  'password+backup_code',
  'totp_enrollment',
  'webauthn',
] as const;

/** Whether a value (a token claim) is one of the {@link sessionMethods}. */
export const isSessionMethod = (value: string): value is SessionContext['method'] =>
  (sessionMethods as readonly string[]).includes(value);

/** How a session was opened, for the audit trail and the session row. */
export interface SessionContext {
  method: (typeof sessionMethods)[number];
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
  /**
   * Signs a password-change token (audience `tokenContract.passwordChangeAudience`, 10 min) carrying how the
   * login proved the user (`method`), so the session opened after the change records the same method.
   */
  passwordChangeToken(user: UserSnapshot, method: SessionContext['method']): Promise<string>;
  /** Verifies a password-change token; answers the user id and the login's method, else `Unauthenticated`. */
  verifyPasswordChangeToken(token: string): Promise<PasswordChangeGrant>;
  /** Ends every session of a user (deactivation, password change); answers how many ended. */
  revokeUserSessions(userId: string, reason: string): Promise<number>;
}

/** What a verified password-change token says. */
export interface PasswordChangeGrant {
  userId: string;
  /** How the login that answered the token proved the user. */
  method: SessionContext['method'];
}

/** Injection token of the {@link TokenIssuer} (provided by the tokens module). */
export const TOKEN_ISSUER = Symbol('TOKEN_ISSUER');
