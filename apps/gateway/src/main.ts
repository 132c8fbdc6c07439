import './instrument';

import { bootstrapService } from '@vivified/service-kit';

import { gatewayConfigSchema } from './config';
import { GatewayModule } from './gateway.module';
import { gatewayHttp } from './http/edge';
import { telemetry, version } from './instrument';

bootstrapService({
  service: 'gateway',
  version,
  module: GatewayModule,
  configSchema: gatewayConfigSchema,
  http: gatewayHttp(version),
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
