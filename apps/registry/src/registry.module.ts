import { Module } from '@nestjs/common';

import { PluginHealthModule } from './health/plugin-health.module';
import { InfoHandlers } from './info/info.handlers';
import { PluginsModule } from './plugins/plugins.module';

@Module({ imports: [PluginsModule, PluginHealthModule], controllers: [InfoHandlers] })
export class RegistryModule {}
