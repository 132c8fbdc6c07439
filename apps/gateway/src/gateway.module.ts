import { Module } from '@nestjs/common';

import { AuditController } from './audit/audit.controller';
import { AuthController } from './auth/auth.controller';
import { TokensController } from './auth/tokens.controller';
import { ConfigController } from './config/config.controller';
import { CoreApi } from './core/core-api';
import { EventsController } from './events/events.controller';
import { HealthController } from './health/health.controller';
import { OpenApiController, OpenApiDocument } from './http/openapi';
import { InfoHandlers } from './info/info.handlers';
import { LanesModule } from './lanes/lanes.module';
import { PluginsController } from './plugins/plugins.controller';
import { PolicyController } from './policy/policy.controller';
import { UsersController } from './users/users.controller';

@Module({
  imports: [LanesModule],
  controllers: [
    InfoHandlers,
    HealthController,
    OpenApiController,
    AuthController,
    TokensController,
    UsersController,
    PolicyController,
    PluginsController,
    AuditController,
    EventsController,
    ConfigController,
  ],
  providers: [CoreApi, OpenApiDocument],
})
export class GatewayModule {}
