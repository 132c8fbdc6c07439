import './instrument';

import { bootstrapService, env } from '@vivified/service-kit';

import { GatewayModule } from './gateway.module';
import { telemetry, version } from './instrument';

bootstrapService({
  service: 'gateway',
  version,
  module: GatewayModule,
  configSchema: {
    httpPort: env.port('VIVIFIED_GATEWAY_HTTP_PORT', {
      default: 8080,
      description: 'Port of the HTTP API and console',
    }),
  },
  httpPortField: 'httpPort',
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
