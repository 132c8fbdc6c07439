import { Module } from '@nestjs/common';

import { PluginConfigModule } from './config/plugin-config.module';
import { PluginHealthModule } from './health/plugin-health.module';
import { InfoHandlers } from './info/info.handlers';
import { NatsCredentialsModule } from './nats-credentials/nats-credentials.module';
import { PluginsModule } from './plugins/plugins.module';

@Module({
  imports: [PluginsModule, PluginHealthModule, PluginConfigModule, NatsCredentialsModule],
  controllers: [InfoHandlers],
})
export class RegistryModule {}
