import type { Provider } from '@nestjs/common';
import type { KekProvider } from '@vivified/crypto';
import { bundleSigningKeys, bundleSigningPurpose } from '@vivified/policy-engine';
import { KEK_PROVIDER } from '@vivified/service-kit';

/** Injection token of the bundle's Ed25519 {@link BundleSigningKeys} (derived from the platform KEK, ADR-0006). */
export const BUNDLE_SIGNING_KEYS = Symbol('BUNDLE_SIGNING_KEYS');

/** Derives the bundle signing keys once at start: `hashKey('vivified.policy.bundle-signing')` is the seed. */
export const bundleKeysProvider: Provider = {
  provide: BUNDLE_SIGNING_KEYS,
  useFactory: async (keks: KekProvider) => {
    const seed = await keks.hashKey(bundleSigningPurpose);
    try {
      return bundleSigningKeys(seed);
    } finally {
      seed.fill(0);
    }
  },
  inject: [KEK_PROVIDER],
};
