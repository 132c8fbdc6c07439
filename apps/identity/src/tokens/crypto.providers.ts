import type { Provider } from '@nestjs/common';
import type { KekProvider } from '@vivified/crypto';
import { KeyedHasher } from '@vivified/crypto';
import { KEK_PROVIDER } from '@vivified/service-kit';

/** Keyed hash of refresh tokens (purpose `identity.refresh-token`). */
export const REFRESH_TOKEN_HASHER = Symbol('REFRESH_TOKEN_HASHER');
/** Keyed hash of plugin client secrets (purpose `identity.plugin-secret`). */
export const PLUGIN_SECRET_HASHER = Symbol('PLUGIN_SECRET_HASHER');
/** Keyed hash of API keys (purpose `identity.api-key`). */
export const API_KEY_HASHER = Symbol('API_KEY_HASHER');

const hasher = (token: symbol, purpose: string): Provider => ({
  provide: token,
  useFactory: (keks: KekProvider) => KeyedHasher.fromProvider(keks, purpose),
  inject: [KEK_PROVIDER],
});

/**
 * Keyed hashers of the token half, derived from the deployment's KEKs (service-kit's `KEK_PROVIDER`). Signing
 * keys are sealed with service-kit's `EnvelopeCipher`.
 */
export const cryptoProviders: Provider[] = [
  hasher(REFRESH_TOKEN_HASHER, 'identity.refresh-token'),
  hasher(PLUGIN_SECRET_HASHER, 'identity.plugin-secret'),
  hasher(API_KEY_HASHER, 'identity.api-key'),
];
