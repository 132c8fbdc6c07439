import { IsBoolean, IsInt, Min } from 'class-validator';

/**
 * The `vivified_sessions` bucket (identity writes it, every service's policy sidecar watches it): one entry per
 * user whose access tokens were cut short, so a deactivation, a password change or reset, an MFA reset or a role
 * change ends the user's access tokens at once instead of when they expire (docs/identity-tokens.md
 * "Revocation"). A user without an entry has nothing revoked.
 */
export class SessionRevocationEntry {
  /** False while the user is deactivated: every token of the user is refused, whenever it was issued. */
  @IsBoolean()
  active!: boolean;

  /**
   * Epoch seconds: a user token whose `iat` is before this is refused; one issued in this second or later (a
   * login right after the change) is not.
   */
  @IsInt()
  @Min(0)
  validAfter!: number;
}

/** The key of a user's entry in the `vivified_sessions` bucket: `user.<userId>`. */
export function sessionRevocationKey(userId: string): string {
  return `user.${userId}`;
}

/** The user id of a `vivified_sessions` key; undefined for any other key. */
export function userIdOfSessionRevocationKey(key: string): string | undefined {
  return key.startsWith('user.') && key.length > 'user.'.length ? key.slice('user.'.length) : undefined;
}
