import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { subjects, TraitListRequest } from '@vivified/contracts';
import type { TraitListReply } from '@vivified/contracts';
import { Handle } from '@vivified/nats-transport';

import { TraitsService } from './traits.service';

@Controller()
export class TraitsHandlers {
  constructor(private readonly traits: TraitsService) {}

  @Handle(subjects.policy.traits.list)
  list(@Payload() _body: TraitListRequest): TraitListReply {
    return this.traits.list();
  }
}
