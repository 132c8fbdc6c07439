import './instrument';

import { bootstrapService } from '@vivified/service-kit';
import { join } from 'node:path';

import { identityConfigSchema } from './config';
import { IdentityModule } from './identity.module';
import { telemetry, version } from './instrument';

bootstrapService({
  service: 'identity',
  version,
  module: IdentityModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  configSchema: identityConfigSchema,
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
