import type { Provider } from '@nestjs/common';
import type { KekProvider } from '@vivified/crypto';
import { createKekProvider, EnvelopeCipher, KeyedHasher } from '@vivified/crypto';
import type { BaseConfig } from '@vivified/service-kit';
import { SERVICE_CONFIG } from '@vivified/service-kit';

/** The KEK provider of the token half (until service-kit provides one for the whole service). */
export const TOKEN_KEKS = Symbol('TOKEN_KEKS');
/** Seals signing keys at rest (AAD `identity.signing-key:<kid>`). */
export const TOKEN_CIPHER = Symbol('TOKEN_CIPHER');
/** Keyed hash of refresh tokens (purpose `identity.refresh-token`). */
export const REFRESH_TOKEN_HASHER = Symbol('REFRESH_TOKEN_HASHER');
/** Keyed hash of plugin client secrets (purpose `identity.plugin-secret`). */
export const PLUGIN_SECRET_HASHER = Symbol('PLUGIN_SECRET_HASHER');
/** Keyed hash of API keys (purpose `identity.api-key`). */
export const API_KEY_HASHER = Symbol('API_KEY_HASHER');

const hasher = (token: symbol, purpose: string): Provider => ({
  provide: token,
  useFactory: (keks: KekProvider) => KeyedHasher.fromProvider(keks, purpose),
  inject: [TOKEN_KEKS],
});

/** Key material of the token half, all derived from the deployment's KEKs. */
export const cryptoProviders: Provider[] = [
  {
    provide: TOKEN_KEKS,
    useFactory: (config: BaseConfig) => createKekProvider({ kek: config.kek, kekFile: config.kekFile }),
    inject: [SERVICE_CONFIG],
  },
  {
    provide: TOKEN_CIPHER,
    useFactory: (keks: KekProvider) => new EnvelopeCipher(keks),
    inject: [TOKEN_KEKS],
  },
  hasher(REFRESH_TOKEN_HASHER, 'identity.refresh-token'),
  hasher(PLUGIN_SECRET_HASHER, 'identity.plugin-secret'),
  hasher(API_KEY_HASHER, 'identity.api-key'),
];
