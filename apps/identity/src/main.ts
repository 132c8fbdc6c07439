import './instrument';

import { bootstrapService } from '@vivified/service-kit';
import { join } from 'node:path';

import { IdentityModule } from './identity.module';
import { telemetry, version } from './instrument';

bootstrapService({
  service: 'identity',
  version,
  module: IdentityModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
