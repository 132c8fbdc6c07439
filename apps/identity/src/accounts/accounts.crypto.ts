import type { Provider } from '@nestjs/common';
import type { KekProvider } from '@vivified/crypto';
import { KeyedHasher } from '@vivified/crypto';
import { KEK_PROVIDER } from '@vivified/service-kit';

/** Keyed hash of backup codes (purpose `identity.backup-code`). */
export const BACKUP_CODE_HASHER = Symbol('BACKUP_CODE_HASHER');
/** Keyed hash of client addresses in the throttle table (purpose `identity.login-ip`). */
export const LOGIN_IP_HASHER = Symbol('LOGIN_IP_HASHER');
/** Keyed hash of usernames that match no account, for the audit trail (purpose `identity.audit-username`). */
export const USERNAME_HASHER = Symbol('USERNAME_HASHER');

/** The AAD that binds a sealed TOTP secret to its user. */
export const totpAad = (userId: string): string => `identity.totp:${userId}`;

const hasher = (token: symbol, purpose: string): Provider => ({
  provide: token,
  useFactory: (keks: KekProvider) => KeyedHasher.fromProvider(keks, purpose),
  inject: [KEK_PROVIDER],
});

/**
 * Keyed hashers of the accounts half, derived from the deployment's KEKs (service-kit's `KEK_PROVIDER`). TOTP
 * secrets are sealed with service-kit's `EnvelopeCipher`.
 */
export const accountsCryptoProviders: Provider[] = [
  hasher(BACKUP_CODE_HASHER, 'identity.backup-code'),
  hasher(LOGIN_IP_HASHER, 'identity.login-ip'),
  hasher(USERNAME_HASHER, 'identity.audit-username'),
];
