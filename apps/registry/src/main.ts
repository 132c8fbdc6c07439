import './instrument';

import { bootstrapService, packageVersion } from '@vivified/service-kit';
import { join } from 'node:path';

import { RegistryModule } from './registry.module';
import { telemetry } from './instrument';

bootstrapService({
  service: 'registry',
  version: packageVersion(__dirname),
  module: RegistryModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
