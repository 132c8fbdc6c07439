import type { Provider } from '@nestjs/common';
import type { KekProvider } from '@vivified/crypto';
import { createKekProvider, EnvelopeCipher, KeyedHasher } from '@vivified/crypto';
import type { BaseConfig } from '@vivified/service-kit';
import { SERVICE_CONFIG } from '@vivified/service-kit';

/** The KEK provider of the accounts half (until service-kit provides one for the whole service). */
export const ACCOUNTS_KEKS = Symbol('ACCOUNTS_KEKS');
/** Seals TOTP secrets at rest (AAD `identity.totp:<user id>`). */
export const TOTP_CIPHER = Symbol('TOTP_CIPHER');
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
  inject: [ACCOUNTS_KEKS],
});

/** Key material of the accounts half, all derived from the deployment's KEKs. */
export const accountsCryptoProviders: Provider[] = [
  {
    provide: ACCOUNTS_KEKS,
    useFactory: (config: BaseConfig) => createKekProvider({ kek: config.kek, kekFile: config.kekFile }),
    inject: [SERVICE_CONFIG],
  },
  {
    provide: TOTP_CIPHER,
    useFactory: (keks: KekProvider) => new EnvelopeCipher(keks),
    inject: [ACCOUNTS_KEKS],
  },
  hasher(BACKUP_CODE_HASHER, 'identity.backup-code'),
  hasher(LOGIN_IP_HASHER, 'identity.login-ip'),
  hasher(USERNAME_HASHER, 'identity.audit-username'),
];
