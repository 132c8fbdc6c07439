import { Module } from '@nestjs/common';
import { EgressResolver } from '@vivified/egress';

import { PluginsModule } from '../plugins/plugins.module';
import { PluginHealthHandlers } from './plugin-health.handlers';
import { PluginHealthLeases } from './plugin-health.leases';
import { PluginHealthMonitor } from './plugin-health.monitor';
import { PluginHealthPoller } from './plugin-health.poller';
import { PluginHealthService } from './plugin-health.service';

/** Heartbeats, HTTP health polls, health and the plugin gauges. */
@Module({
  imports: [PluginsModule],
  controllers: [PluginHealthHandlers],
  providers: [
    PluginHealthService,
    PluginHealthMonitor,
    PluginHealthLeases,
    PluginHealthPoller,
    EgressResolver,
  ],
})
export class PluginHealthModule {}
