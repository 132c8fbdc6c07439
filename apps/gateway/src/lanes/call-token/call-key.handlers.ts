import { Controller } from '@nestjs/common';
import type { CallKeyReply } from '@vivified/contracts';
import { subjects } from '@vivified/contracts';
import { Handle } from '@vivified/nats-transport';

import { CallTokenSigner } from './call-token-signer';

/** Publishes the key plugins verify call tokens with (public: it is a public key). */
@Controller()
export class CallKeyHandlers {
  constructor(private readonly signer: CallTokenSigner) {}

  @Handle(subjects.gateway.callKey)
  get(): CallKeyReply {
    return { keys: [this.signer.jwk()] };
  }
}
