import './instrument';

import { bootstrapService, packageVersion } from '@vivified/service-kit';
import { join } from 'node:path';

import { AuditModule } from './audit.module';
import { telemetry } from './instrument';

bootstrapService({
  service: 'audit',
  version: packageVersion(__dirname),
  module: AuditModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
