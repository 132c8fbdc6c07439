import { Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TokenVerifier } from '@vivified/auth';
import type { HttpOptions, ServiceLogger } from '@vivified/service-kit';
import { SERVICE_LOGGER } from '@vivified/service-kit';

import type { GatewayConfig } from '../config';
import { EdgeAuthGuard } from './edge-auth.guard';
import { EdgeExceptionFilter } from './exception-filter';
import { configureHttp } from './http-setup';
import { OpenApiDocument } from './openapi';
import { principalKeyResolver } from './principal-key';

/** How `bootstrapService` serves the gateway's HTTP API (shared by `main.ts` and the tests). */
export function gatewayHttp(version: string): HttpOptions {
  return {
    portField: 'httpPort',
    adapterOptions: (config) => ({
      trustProxy: (config as GatewayConfig).trustProxy,
      bodyLimit: (config as GatewayConfig).bodyLimitBytes,
    }),
    configure: async (app: NestFastifyApplication, config) => {
      const logger = app.get<ServiceLogger>(SERVICE_LOGGER);
      app.useGlobalFilters(
        new EdgeExceptionFilter((error) => logger.error({ err: error }, 'request failed')),
      );
      app.useGlobalGuards(new EdgeAuthGuard(app.get(Reflector), app.get(TokenVerifier)));
      await configureHttp(app, config as GatewayConfig, principalKeyResolver(app.get(TokenVerifier)));
      app.get(OpenApiDocument).build(app, version);
    },
  };
}
