import { Module } from '@nestjs/common';

import { HealthController } from './health/health.controller';
import { InfoHandlers } from './info/info.handlers';

@Module({ controllers: [InfoHandlers, HealthController] })
export class GatewayModule {}
