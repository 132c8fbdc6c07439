import type { FactoryProvider } from '@nestjs/common';
import { callTokenContract } from '@vivified/contracts';
import type { KekProvider } from '@vivified/crypto';
import { KEK_PROVIDER } from '@vivified/service-kit';

import { CallTokenSigner } from './call-token-signer';

/** The gateway's call-token signer, its key derived from the KEK at start. */
export const callTokenSignerProvider: FactoryProvider<Promise<CallTokenSigner>> = {
  provide: CallTokenSigner,
  inject: [KEK_PROVIDER],
  useFactory: async (kek: KekProvider) =>
    new CallTokenSigner(await kek.hashKey(callTokenContract.signingPurpose)),
};
