import { Module } from '@nestjs/common';

import { PluginsModule } from '../plugins/plugins.module';
import { PluginHealthHandlers } from './plugin-health.handlers';
import { PluginHealthMonitor } from './plugin-health.monitor';
import { PluginHealthService } from './plugin-health.service';

/** Heartbeats, health and the plugin gauges. */
@Module({
  imports: [PluginsModule],
  controllers: [PluginHealthHandlers],
  providers: [PluginHealthService, PluginHealthMonitor],
})
export class PluginHealthModule {}
