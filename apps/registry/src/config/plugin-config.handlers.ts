import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  PluginConfigGetRequest,
  PluginConfigHistoryReply,
  PluginConfigPutRequest,
  PluginConfigSelfReply,
  PluginConfigView,
  PluginIdRequest,
  subjects,
} from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { principalOf } from '../plugins/principal';
import { PluginConfigService } from './plugin-config.service';

/** Plugin config: users read and write it, the plugin reads its own. */
@Controller()
export class PluginConfigHandlers {
  constructor(private readonly config: PluginConfigService) {}

  @Handle(subjects.registry.plugins.config.get)
  get(@Payload() body: PluginConfigGetRequest): Promise<PluginConfigView> {
    return this.config.get(body.pluginId, body.version);
  }

  @Handle(subjects.registry.plugins.config.put)
  put(@Payload() body: PluginConfigPutRequest, @Ctx() ctx: NatsRequestContext): Promise<PluginConfigView> {
    return this.config.put(body.pluginId, body.values, body.reason, principalOf(ctx));
  }

  @Handle(subjects.registry.plugins.config.history)
  history(@Payload() body: PluginIdRequest): Promise<PluginConfigHistoryReply> {
    return this.config.history(body.pluginId);
  }

  @Handle(subjects.registry.plugins.config.self)
  self(@Payload() body: PluginIdRequest, @Ctx() ctx: NatsRequestContext): Promise<PluginConfigSelfReply> {
    return this.config.self(body.pluginId, principalOf(ctx));
  }
}
