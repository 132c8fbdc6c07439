import './instrument';

import { bootstrapService } from '@vivified/service-kit';
import { join } from 'node:path';

import { eventRouterConfigSchema } from './config';
import { EventRouterModule } from './event-router.module';
import { telemetry, version } from './instrument';

bootstrapService({
  service: 'event-router',
  version,
  module: EventRouterModule,
  migrationsDir: join(__dirname, '..', 'migrations'),
  configSchema: eventRouterConfigSchema,
  onStopped: () => telemetry.shutdown(),
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
