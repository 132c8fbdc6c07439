import './instrument';

import { bootstrapService } from '@vivified/service-kit';
import { join } from 'node:path';

import { RegistryModule } from './registry.module';
import { telemetry, version } from './instrument';

bootstrapService({
  service: 'registry',
  version,
  module: RegistryModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
