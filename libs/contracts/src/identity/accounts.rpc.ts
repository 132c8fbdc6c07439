import 'reflect-metadata';

import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsBoolean,
  IsEmail,
  IsInt,
  IsIP,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

import type { Access } from '../rpc';
import { defineRpc, PUBLIC } from '../rpc';
import { subjects } from '../subjects';

/**
 * Request/reply contracts of identity's accounts: login, MFA, users and roles (ARCHITECTURE §7). The gateway maps
 * the HTTP routes onto these one to one, so the bodies mirror the HTTP bodies.
 */

/** A username as accepted when creating a user; it is stored lower-cased. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

/** A TOTP code: 6 digits (RFC 6238, SHA-1, 30 s). */
export const TOTP_CODE_PATTERN = /^\d{6}$/;

/** A backup code: 8 characters of Crockford base32, shown as `xxxx-xxxx`; the hyphen is optional. */
export const BACKUP_CODE_PATTERN = /^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$/;

/** The largest password accepted anywhere (longer ones are refused before hashing). */
export const PASSWORD_MAX_LENGTH = 256;

/** `reason` of a {@link ErrorCode.RateLimited} login refusal; `details[0]` is `{path:'retryAfterSeconds'}`. */
export const LOGIN_THROTTLED_REASON = 'throttled';

// ---------------------------------------------------------------------------------------------------------------
// Login and profile

/** `POST /v1/auth/login`. */
export class LoginRequest {
  /** Username (any case; compared lower-cased). */
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  username!: string;

  /** Password. */
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;

  /** Current TOTP code, for an enrolled user. */
  @IsOptional()
  @Matches(TOTP_CODE_PATTERN)
  totp?: string;

  /** An unused backup code, instead of `totp`. */
  @IsOptional()
  @Matches(BACKUP_CODE_PATTERN)
  backupCode?: string;

  /** Client address as the gateway saw it (per-address throttling and audit). Filled by the gateway. */
  @IsOptional()
  @IsIP()
  ip?: string;

  /** Client user agent, for the session record. Filled by the gateway. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  userAgent?: string;
}

/**
 * What every login may answer (password or passkey): the session's tokens
 * `{accessToken, refreshToken, expiresIn, tokenType}`, or — for an account that must change its password first —
 * `{passwordChangeRequired: true, passwordChangeToken}` and no tokens.
 */
export class SessionOrPasswordChangeReply {
  /** JWT access token (15 min). */
  @IsOptional()
  @IsString()
  accessToken?: string;

  /** Opaque refresh token. */
  @IsOptional()
  @IsString()
  refreshToken?: string;

  /** Seconds until the access token expires. */
  @IsOptional()
  @IsInt()
  expiresIn?: number;

  /** `Bearer`. */
  @IsOptional()
  @IsString()
  tokenType?: 'Bearer';

  /**
   * The login was right but the account must change its password first (a one-time password from the first start
   * or an admin reset): send `POST /v1/auth/password {passwordChangeToken, newPassword}`.
   */
  @IsOptional()
  @IsBoolean()
  passwordChangeRequired?: true;

  /** Opens the required password change for this user only (10 min); nothing else accepts it. */
  @IsOptional()
  @IsString()
  passwordChangeToken?: string;
}

/**
 * The answer of a password login: tokens, or what is still missing. Exactly one shape is filled:
 * `{accessToken, refreshToken, expiresIn, tokenType}` | `{mfaRequired: true}` |
 * `{mfaEnrollmentRequired: true, enrollmentToken}` | `{passwordChangeRequired: true, passwordChangeToken}`.
 * The order is fixed: password (and TOTP or backup code when enrolled), then a required password change, then a
 * required MFA enrolment, then tokens.
 */
export class LoginReply extends SessionOrPasswordChangeReply {
  /** The password was right but the account has TOTP: send the login again with `totp` or `backupCode`. */
  @IsOptional()
  @IsBoolean()
  mfaRequired?: true;

  /** The password was right but a role of the account needs MFA and none is enrolled yet. */
  @IsOptional()
  @IsBoolean()
  mfaEnrollmentRequired?: true;

  /** Opens TOTP setup and enable for this user only (10 min); nothing else accepts it. */
  @IsOptional()
  @IsString()
  enrollmentToken?: string;
}

/** `POST /v1/auth/password`: the caller changes its own password. */
export class ChangePasswordRequest {
  /** The password in use now. */
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_MAX_LENGTH)
  currentPassword!: string;

  /** The new password; it must meet the password policy and differ from the current one. */
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_MAX_LENGTH)
  newPassword!: string;
}

/** Reply of a password change: every session of the user has ended, so it signs in again. */
export class ChangePasswordReply {
  @IsBoolean()
  changed!: true;

  /** How many sessions ended (all of the user's, including the one that asked). */
  @IsInt()
  @Min(0)
  sessionsEnded!: number;
}

/** `POST /v1/auth/logout-all`: no body; the caller is the user of the access token. */
export class LogoutAllRequest {}

/**
 * Reply of a log-out-everywhere: every session of the user has ended and every access token issued to it up to the
 * request is refused at every service (the caller's own included), so it signs in again. The gateway answers `204`
 * without a body, as it does for a logout.
 */
export class LogoutAllReply {
  /** How many sessions ended (all of the user's open ones, including the one that asked). */
  @IsInt()
  @Min(0)
  sessionsEnded!: number;
}

/**
 * `POST /v1/auth/password` with a password-change token (no bearer): a login answered `passwordChangeRequired`. The
 * token is the credential; the answer is a {@link LoginReply}: tokens, or `mfaEnrollmentRequired` when a role
 * needs MFA and none is enrolled (password first, then MFA).
 */
export class RequiredPasswordChangeRequest {
  /** The `passwordChangeToken` a login answered. */
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  passwordChangeToken!: string;

  /** The new password; it must meet the password policy and differ from the current (one-time) one. */
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_MAX_LENGTH)
  newPassword!: string;

  /** Client address, for the session this opens. Filled by the gateway. */
  @IsOptional()
  @IsIP()
  ip?: string;

  /** Client user agent. Filled by the gateway. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  userAgent?: string;
}

/** `GET /v1/me`: no body. */
export class MeRequest {}

/** The caller's own profile. */
export class UserProfile {
  /** UUID. */
  @IsUUID()
  id!: string;

  /** Lower-case username. */
  @IsString()
  username!: string;

  @IsOptional()
  @IsString()
  email?: string;

  @IsOptional()
  @IsString()
  displayName?: string;

  /** Role names. */
  @IsString({ each: true })
  roles!: string[];

  /** Effective traits (the union of the roles' traits). */
  @IsString({ each: true })
  traits!: string[];

  /** Whether TOTP is enabled. */
  @IsBoolean()
  mfaEnrolled!: boolean;

  /** Set for an account with a one-time password: its next login must change it before it gets tokens. */
  @IsBoolean()
  mustChangePassword!: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// MFA

/**
 * `POST /v1/auth/mfa/totp/setup`. Public: the caller is identified by `enrollmentToken` (first login) or, when it
 * is absent, by the access token in the request's `Authorization` header.
 */
export class TotpSetupRequest {
  /** The enrolment token a login answered. */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  enrollmentToken?: string;
}

/** A pending TOTP secret; enrolment completes when a code of it is confirmed. */
export class TotpSetupReply {
  /** Base32 secret, for manual entry. */
  @IsString()
  secret!: string;

  /** `otpauth://totp/Vivified:<username>?…` for a QR code. */
  @IsString()
  otpauthUrl!: string;
}

/** `POST /v1/auth/mfa/totp/enable`: the caller as in {@link TotpSetupRequest}, plus a code of the pending secret. */
export class TotpEnableRequest {
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  enrollmentToken?: string;

  /** A current code of the pending secret. */
  @Matches(TOTP_CODE_PATTERN)
  code!: string;

  /** Client address, for the session opened on first login. Filled by the gateway. */
  @IsOptional()
  @IsIP()
  ip?: string;

  /** Client user agent. Filled by the gateway. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  userAgent?: string;
}

/** TOTP is on: ten new backup codes and, when enrolment came from a login (enrolment token), the session's tokens. */
export class TotpEnableReply {
  /** Ten single-use backup codes (`xxxx-xxxx`), shown once. */
  @IsString({ each: true })
  backupCodes!: string[];

  @IsOptional()
  @IsString()
  accessToken?: string;

  @IsOptional()
  @IsString()
  refreshToken?: string;

  @IsOptional()
  @IsInt()
  expiresIn?: number;

  @IsOptional()
  @IsString()
  tokenType?: 'Bearer';
}

/** Turns TOTP off for the caller; a current code proves possession. Refused for roles that require MFA. */
export class TotpDisableRequest {
  @Matches(TOTP_CODE_PATTERN)
  code!: string;
}

/**
 * TOTP is off and the backup codes are gone. A weaker sign-in must not leave an older session standing: every
 * session of the user has ended and every access token issued before is refused (the caller's own included), so it
 * signs in again, as after a password change.
 */
export class TotpDisableReply {
  @IsBoolean()
  disabled!: true;

  /** How many sessions ended (all of the user's, including the one that asked). */
  @IsInt()
  @Min(0)
  sessionsEnded!: number;
}

/** `POST /v1/auth/mfa/backup-codes`: no body. */
export class BackupCodesRequest {}

/** Ten new backup codes; the previous ones no longer work. */
export class BackupCodesReply {
  @IsString({ each: true })
  backupCodes!: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Users and roles

/** A user as administrators see it. */
export class UserView {
  @IsUUID()
  id!: string;

  @IsString()
  username!: string;

  @IsOptional()
  @IsString()
  email?: string;

  @IsOptional()
  @IsString()
  displayName?: string;

  /** False once deactivated. */
  @IsBoolean()
  active!: boolean;

  @IsString({ each: true })
  roles!: string[];

  @IsString({ each: true })
  traits!: string[];

  @IsBoolean()
  mfaEnrolled!: boolean;

  @IsBoolean()
  mustChangePassword!: boolean;

  /** Until when the account is locked after failed logins (ISO 8601); absent when not locked. */
  @IsOptional()
  @IsString()
  lockedUntil?: string;

  @IsOptional()
  @IsString()
  lastLoginAt?: string;

  @IsString()
  createdAt!: string;

  @IsString()
  updatedAt!: string;
}

/** `GET /v1/users`: a page in username order. */
export class UserListRequest {
  /**
   * Page size.
   * @default 50
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

/** One page of users. */
export class UserListReply {
  @ValidateNested({ each: true })
  @Type(() => UserView)
  users!: UserView[];

  /** Cursor of the next page; absent on the last one. */
  @IsOptional()
  @IsString()
  nextCursor?: string;
}

/** One user by id. */
export class UserGetRequest {
  @IsUUID()
  id!: string;
}

const ROLE_NAME = /^[a-z][a-z0-9_]{1,62}$/;

/** `POST /v1/users`. */
export class UserCreateRequest {
  /** Stored lower-cased; unique. */
  @Matches(USERNAME_PATTERN)
  username!: string;

  /** Must pass the password policy (at least 12 characters, not the username, not a common password). */
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;

  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  displayName?: string;

  /**
   * Role names.
   * @default ['viewer']
   */
  @IsOptional()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @Matches(ROLE_NAME, { each: true })
  roles?: string[];

  /**
   * The user must change the password at its first login: the login answers `passwordChangeRequired` instead of
   * tokens until it does.
   * @default false
   */
  @IsOptional()
  @IsBoolean()
  mustChangePassword?: boolean;
}

/** `PATCH /v1/users/:id`: only the fields given change. Deactivation ends every session of the user. */
export class UserUpdateRequest {
  @IsUUID()
  id!: string;

  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  displayName?: string;

  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

/** `PUT /v1/users/:id/roles`: replaces the user's roles. Admins assign roles, never raw traits. */
export class UserSetRolesRequest {
  @IsUUID()
  id!: string;

  @ArrayMaxSize(20)
  @ArrayUnique()
  @Matches(ROLE_NAME, { each: true })
  roles!: string[];
}

/** Lifts a lockout and resets the failure counters. */
export class UserUnlockRequest {
  @IsUUID()
  id!: string;
}

/**
 * `POST /v1/users/:id/password-reset`: an admin sets a one-time password for another user. Without `password` one
 * is generated and answered once. The user must change it at its next login; every session of the user ends and
 * a lockout is lifted.
 */
export class UserPasswordResetRequest {
  @IsUUID()
  id!: string;

  /** The one-time password to set (it must pass the password policy); generated when absent. */
  @IsOptional()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password?: string;
}

/** The reset account, and the one-time password when it was generated (shown once, never stored in clear). */
export class UserPasswordResetReply {
  @ValidateNested()
  @Type(() => UserView)
  user!: UserView;

  /** The generated one-time password; absent when the request gave one. */
  @IsOptional()
  @IsString()
  oneTimePassword?: string;

  /** How many sessions of the user ended. */
  @IsInt()
  @Min(0)
  sessionsEnded!: number;
}

/**
 * `POST /v1/users/:id/mfa-reset`: an admin removes another user's TOTP and backup codes (and, with `passkeys`, its
 * passkeys); a role that needs MFA then enrols again at the next login. Every session of the user ends.
 */
export class UserMfaResetRequest {
  @IsUUID()
  id!: string;

  /**
   * Also remove every passkey of the user.
   * @default false
   */
  @IsOptional()
  @IsBoolean()
  passkeys?: boolean;
}

/** What the MFA reset removed. */
export class UserMfaResetReply {
  @ValidateNested()
  @Type(() => UserView)
  user!: UserView;

  /** TOTP was enabled (or a setup was pending) and is gone. */
  @IsBoolean()
  totpRemoved!: boolean;

  @IsInt()
  @Min(0)
  backupCodesRemoved!: number;

  @IsInt()
  @Min(0)
  passkeysRemoved!: number;

  @IsInt()
  @Min(0)
  sessionsEnded!: number;
}

/** `GET /v1/roles`: no body. */
export class RoleListRequest {}

/** A role and the traits it grants. */
export class RoleView {
  @IsString()
  name!: string;

  @IsString()
  description!: string;

  @IsString({ each: true })
  traits!: string[];

  /** Holders must enrol TOTP before a login opens a session. */
  @IsBoolean()
  mfaRequired!: boolean;
}

/** Every role. */
export class RoleListReply {
  @ValidateNested({ each: true })
  @Type(() => RoleView)
  roles!: RoleView[];
}

// ---------------------------------------------------------------------------------------------------------------
// Contracts

const userAdmin = (action: string): Access => ({
  action,
  anyTrait: ['user_manager'],
  kinds: ['user'],
});

const ownAccount = (action: string): Access => ({ action, kinds: ['user'] });

/** Login, profile, MFA, user and role contracts, keyed by subject. */
export const accountsContracts = {
  [subjects.identity.auth.login]: defineRpc({
    subject: subjects.identity.auth.login,
    request: LoginRequest,
    reply: LoginReply,
    access: PUBLIC,
    summary: 'Password login, with a TOTP or backup code when the account has MFA.',
    timeoutMs: 10_000,
  }),
  [subjects.identity.auth.me]: defineRpc({
    subject: subjects.identity.auth.me,
    request: MeRequest,
    reply: UserProfile,
    access: ownAccount('identity.auth.me'),
    summary: "The caller's own profile.",
  }),
  [subjects.identity.auth.changePassword]: defineRpc({
    subject: subjects.identity.auth.changePassword,
    request: ChangePasswordRequest,
    reply: ChangePasswordReply,
    access: ownAccount('identity.auth.change-password'),
    summary: 'Changes the caller’s own password; every session of the user ends.',
  }),
  [subjects.identity.auth.logoutAll]: defineRpc({
    subject: subjects.identity.auth.logoutAll,
    request: LogoutAllRequest,
    reply: LogoutAllReply,
    access: ownAccount('identity.auth.logout-all'),
    summary: 'Ends every session of the caller and revokes every access token issued to it up to now.',
  }),
  [subjects.identity.mfa.totpSetup]: defineRpc({
    subject: subjects.identity.mfa.totpSetup,
    request: TotpSetupRequest,
    reply: TotpSetupReply,
    access: PUBLIC,
    summary: 'Starts TOTP enrolment (enrolment token, or the caller’s access token).',
  }),
  [subjects.identity.mfa.totpEnable]: defineRpc({
    subject: subjects.identity.mfa.totpEnable,
    request: TotpEnableRequest,
    reply: TotpEnableReply,
    access: PUBLIC,
    summary: 'Confirms TOTP enrolment with a first code; answers backup codes (and tokens on first login).',
    timeoutMs: 10_000,
  }),
  [subjects.identity.mfa.totpDisable]: defineRpc({
    subject: subjects.identity.mfa.totpDisable,
    request: TotpDisableRequest,
    reply: TotpDisableReply,
    access: ownAccount('identity.mfa.disable'),
    summary:
      'Turns TOTP off for the caller (refused for roles that require MFA); every session of the user ends.',
  }),
  [subjects.identity.mfa.backupCodes]: defineRpc({
    subject: subjects.identity.mfa.backupCodes,
    request: BackupCodesRequest,
    reply: BackupCodesReply,
    access: ownAccount('identity.mfa.backup-codes'),
    summary: "Replaces the caller's backup codes with ten new ones.",
  }),
  [subjects.identity.users.list]: defineRpc({
    subject: subjects.identity.users.list,
    request: UserListRequest,
    reply: UserListReply,
    access: userAdmin('identity.user.list'),
    summary: 'A page of users in username order.',
  }),
  [subjects.identity.users.get]: defineRpc({
    subject: subjects.identity.users.get,
    request: UserGetRequest,
    reply: UserView,
    access: userAdmin('identity.user.read'),
    summary: 'One user.',
  }),
  [subjects.identity.users.create]: defineRpc({
    subject: subjects.identity.users.create,
    request: UserCreateRequest,
    reply: UserView,
    access: userAdmin('identity.user.create'),
    summary: 'Creates a user with roles.',
    timeoutMs: 10_000,
  }),
  [subjects.identity.users.update]: defineRpc({
    subject: subjects.identity.users.update,
    request: UserUpdateRequest,
    reply: UserView,
    access: userAdmin('identity.user.update'),
    summary: "Changes a user's email, display name or active flag (deactivation ends its sessions).",
  }),
  [subjects.identity.users.setRoles]: defineRpc({
    subject: subjects.identity.users.setRoles,
    request: UserSetRolesRequest,
    reply: UserView,
    access: userAdmin('identity.user.set-roles'),
    summary: "Replaces a user's roles.",
  }),
  [subjects.identity.users.unlock]: defineRpc({
    subject: subjects.identity.users.unlock,
    request: UserUnlockRequest,
    reply: UserView,
    access: userAdmin('identity.user.unlock'),
    summary: 'Lifts a lockout after failed logins.',
  }),
  [subjects.identity.auth.requiredPasswordChange]: defineRpc({
    subject: subjects.identity.auth.requiredPasswordChange,
    request: RequiredPasswordChangeRequest,
    reply: LoginReply,
    access: PUBLIC,
    summary:
      'Sets the new password a login required (password-change token); answers tokens or MFA enrolment.',
    timeoutMs: 10_000,
  }),
  [subjects.identity.users.passwordReset]: defineRpc({
    subject: subjects.identity.users.passwordReset,
    request: UserPasswordResetRequest,
    reply: UserPasswordResetReply,
    access: userAdmin('identity.user.password-reset'),
    summary: "Sets another user's one-time password (must change at next login); ends its sessions.",
    timeoutMs: 10_000,
  }),
  [subjects.identity.users.mfaReset]: defineRpc({
    subject: subjects.identity.users.mfaReset,
    request: UserMfaResetRequest,
    reply: UserMfaResetReply,
    access: userAdmin('identity.user.mfa-reset'),
    summary: "Removes another user's TOTP and backup codes (and passkeys on request); ends its sessions.",
  }),
  [subjects.identity.roles.list]: defineRpc({
    subject: subjects.identity.roles.list,
    request: RoleListRequest,
    reply: RoleListReply,
    access: ownAccount('identity.role.list'),
    summary: 'Every role with the traits it grants.',
  }),
} as const;

/** The role names of a {@link UserSetRolesRequest} must be known; this is the reason when one is not. */
export const UNKNOWN_ROLE_REASON = 'unknown_role';

/** Seconds to wait before retrying, from a throttled login's error details; undefined for other errors. */
export function loginRetryAfterSeconds(error: {
  reason?: string;
  details?: { path: string; messages: string[] }[];
}): number | undefined {
  if (error.reason !== LOGIN_THROTTLED_REASON) {
    return undefined;
  }
  const value = Number(error.details?.find((detail) => detail.path === 'retryAfterSeconds')?.messages[0]);

  return Number.isFinite(value) ? value : undefined;
}

/** The roles the first migration seeds (ARCHITECTURE §4). */
export const defaultRoleNames = [
  'admin',
  'operator',
  'viewer',
  'developer',
  'phi_handler',
  'pii_handler',
  'security_admin',
  'compliance_officer',
] as const;

// ---------------------------------------------------------------------------------------------------------------
// MFA coverage (read-only, for the compliance report)

/** At most this many ids of PHI users without a second factor are listed in {@link MfaCoveragePhiUsers}. */
export const MFA_COVERAGE_MAX_IDS = 50;

/** The MFA coverage report takes no input. */
export class MfaCoverageRequest {}

/** Every user account. */
export class MfaCoverageUsers {
  /** Every account, active or not. */
  @IsInt()
  @Min(0)
  total!: number;

  /** Accounts with `active` set. */
  @IsInt()
  @Min(0)
  active!: number;
}

/** The PHI users (see {@link MfaCoverageReply}) and their second factors. */
export class MfaCoveragePhiUsers {
  @IsInt()
  @Min(0)
  total!: number;

  /** With TOTP enabled or at least one passkey. */
  @IsInt()
  @Min(0)
  withMfa!: number;

  /** With TOTP enabled (confirmed with a first code; a pending setup does not count). */
  @IsInt()
  @Min(0)
  withTotp!: number;

  /** With at least one registered passkey. */
  @IsInt()
  @Min(0)
  withPasskey!: number;

  /** `total - withMfa`. */
  @IsInt()
  @Min(0)
  withoutMfa!: number;

  /**
   * Ids of PHI users without a second factor, in id order, at most {@link MFA_COVERAGE_MAX_IDS} (so fewer than
   * `withoutMfa` when there are more). Ids only: no usernames, names or emails.
   */
  @ArrayMaxSize(MFA_COVERAGE_MAX_IDS)
  @IsUUID('all', { each: true })
  withoutMfaIds!: string[];
}

/** Active users whose effective traits include `admin`. */
export class MfaCoverageAdminUsers {
  @IsInt()
  @Min(0)
  total!: number;

  /** With TOTP enabled or at least one passkey. */
  @IsInt()
  @Min(0)
  withMfa!: number;
}

/**
 * `vivified.v1.identity.user.mfa-coverage`: how many users hold a second factor, for the audit service's
 * compliance report (HIPAA 164.312(d)). Read-only; counts and user ids, never names or emails.
 *
 * Definitions, all from one consistent read of identity's tables:
 * - a user's traits are the union of the traits of its roles, and its **effective** traits are those the
 *   policy engine lets take effect (`effectiveTraits` of libs/policy-engine: legacy aliases resolved, a trait
 *   whose requirements are not met dropped — e.g. `handles_phi` without `audit_required`);
 * - a **PHI user** is an *active* user whose effective traits include `handles_phi` (as the default roles stand,
 *   the holders of `phi_handler`); inactive users cannot log in and are not counted anywhere but
 *   `users.total`;
 * - an **admin user** is an active user whose effective traits include `admin`;
 * - a user **has MFA** when TOTP is enabled (enrolment confirmed) or at least one passkey is registered
 *   (passkeys are created and used with user verification required, so one is a second factor by itself);
 *   backup codes alone do not count, they only stand in for TOTP.
 *
 * Who may read it: a core service (the audit service, with its service token), or a user holding
 * `audit_viewer` or `admin` (action `identity.user.mfa-coverage`).
 */
export class MfaCoverageReply {
  @ValidateNested()
  @Type(() => MfaCoverageUsers)
  users!: MfaCoverageUsers;

  @ValidateNested()
  @Type(() => MfaCoveragePhiUsers)
  phiUsers!: MfaCoveragePhiUsers;

  @ValidateNested()
  @Type(() => MfaCoverageAdminUsers)
  adminUsers!: MfaCoverageAdminUsers;

  /** When the figures were read (ISO 8601). */
  @IsISO8601()
  generatedAt!: string;
}

/** Traits that may read the MFA coverage: auditors, admins, and core services (`system_core`). */
export const mfaCoverageReaderTraits = ['audit_viewer', 'admin', 'system_core'] as const;

/** The MFA coverage contract, keyed by subject. */
export const mfaCoverageContracts = {
  [subjects.identity.users.mfaCoverage]: defineRpc({
    subject: subjects.identity.users.mfaCoverage,
    request: MfaCoverageRequest,
    reply: MfaCoverageReply,
    access: {
      action: 'identity.user.mfa-coverage',
      anyTrait: mfaCoverageReaderTraits,
      kinds: ['user', 'service'],
    },
    summary: 'MFA coverage of PHI users and admins (counts, ids of PHI users without MFA).',
  }),
} as const;
