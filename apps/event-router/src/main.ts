import './instrument';

import { bootstrapService, packageVersion } from '@vivified/service-kit';
import { join } from 'node:path';

import { EventRouterModule } from './event-router.module';
import { telemetry } from './instrument';

bootstrapService({
  service: 'event-router',
  version: packageVersion(__dirname),
  module: EventRouterModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
