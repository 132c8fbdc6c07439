import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { PluginHeartbeatReply, PluginHeartbeatRequest, subjects } from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { principalOf } from '../plugins/principal';
import { PluginHealthService } from './plugin-health.service';

/** Plugin heartbeats. */
@Controller()
export class PluginHealthHandlers {
  constructor(private readonly health: PluginHealthService) {}

  @Handle(subjects.registry.heartbeat)
  heartbeat(
    @Payload() body: PluginHeartbeatRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PluginHeartbeatReply> {
    return this.health.heartbeat(body.pluginId, body.status ?? 'ok', principalOf(ctx));
  }
}
