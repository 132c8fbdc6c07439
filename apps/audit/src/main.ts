import './instrument';

import { bootstrapService } from '@vivified/service-kit';
import { join } from 'node:path';

import { AuditModule } from './audit.module';
import { auditConfigSchema } from './config';
import { telemetry, version } from './instrument';

bootstrapService({
  service: 'audit',
  version,
  module: AuditModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  configSchema: auditConfigSchema,
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
