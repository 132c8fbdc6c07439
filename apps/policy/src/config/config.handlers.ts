import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { ConfigGetRequest, ConfigHistoryRequest, ConfigPutRequest, subjects } from '@vivified/contracts';
import type { ConfigHistoryReply, ConfigView } from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { userActor } from '../caller';
import { ConfigService } from './config.service';

@Controller()
export class ConfigHandlers {
  constructor(private readonly config: ConfigService) {}

  @Handle(subjects.policy.config.get)
  get(@Payload() _body: ConfigGetRequest): Promise<ConfigView> {
    return this.config.get();
  }

  @Handle(subjects.policy.config.put)
  put(@Payload() body: ConfigPutRequest, @Ctx() ctx: NatsRequestContext): Promise<ConfigView> {
    return this.config.put(userActor(ctx.principal), body);
  }

  @Handle(subjects.policy.config.history)
  history(@Payload() body: ConfigHistoryRequest): Promise<ConfigHistoryReply> {
    return this.config.history(body);
  }
}
