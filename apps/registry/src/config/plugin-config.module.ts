import { Module } from '@nestjs/common';

import { PluginsModule } from '../plugins/plugins.module';
import { PluginConfigHandlers } from './plugin-config.handlers';
import { PluginConfigRepository } from './plugin-config.repository';
import { PluginConfigService } from './plugin-config.service';

/** Versioned, validated plugin config with encrypted secrets. */
@Module({
  imports: [PluginsModule],
  controllers: [PluginConfigHandlers],
  providers: [PluginConfigRepository, PluginConfigService],
})
export class PluginConfigModule {}
