import './instrument';

import { bootstrapService, packageVersion } from '@vivified/service-kit';
import { join } from 'node:path';

import { PolicyModule } from './policy.module';
import { telemetry } from './instrument';

bootstrapService({
  service: 'policy',
  version: packageVersion(__dirname),
  module: PolicyModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
