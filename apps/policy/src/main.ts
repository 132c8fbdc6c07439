import './instrument';

import { bootstrapService } from '@vivified/service-kit';
import { join } from 'node:path';

import { PolicyModule } from './policy.module';
import { telemetry, version } from './instrument';

bootstrapService({
  service: 'policy',
  version,
  module: PolicyModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
