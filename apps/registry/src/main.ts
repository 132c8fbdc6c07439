import './instrument';

import { bootstrapService } from '@vivified/service-kit';
import { join } from 'node:path';

import { telemetry, version } from './instrument';
import { natsCredentialsConfigSchema } from './nats-credentials/nats-credentials.config';
import { registryServiceConfigSchema } from './registry.config';
import { RegistryModule } from './registry.module';

bootstrapService({
  service: 'registry',
  version,
  module: RegistryModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  configSchema: { ...registryServiceConfigSchema, ...natsCredentialsConfigSchema },
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
