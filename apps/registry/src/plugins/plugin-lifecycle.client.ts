import { Inject, Injectable } from '@nestjs/common';
import type { PluginLifecycleMessage } from '@vivified/contracts';
import { dynamicSubjects } from '@vivified/contracts';
import { encodeJson } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

/** Tells a plugin about its own lifecycle on `vivified.v1.plugin.<id>.lifecycle` (fire and forget). */
@Injectable()
export class PluginLifecycleClient {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  notify(message: PluginLifecycleMessage): void {
    this.nc.publish(dynamicSubjects.pluginLifecycle(message.pluginId), encodeJson(message));
  }
}
