import { Controller } from '@nestjs/common';
import { subjects } from '@vivified/contracts';
import type { InfoReply } from '@vivified/contracts';
import { Handle } from '@vivified/nats-transport';
import { InfoService } from '@vivified/service-kit';

@Controller()
export class InfoHandlers {
  constructor(private readonly info: InfoService) {}

  @Handle(subjects.registry.info)
  get(): InfoReply {
    return this.info.get();
  }
}
