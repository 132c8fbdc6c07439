import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import type { ConfigCatalog } from '@vivified/contracts';
import { configCatalogProblems } from '@vivified/contracts';

import { ConfigAudit } from './config-audit';
import { ConfigBucketClient } from './config-bucket.client';
import { ConfigMetrics } from './config-metrics';
import { ConfigPublisher } from './config-publisher';
import { CONFIG_CATALOG } from './config-view';
import { ConfigHandlers } from './config.handlers';
import { ConfigRepository } from './config.repository';
import { ConfigService } from './config.service';

/** The platform config API (`vivified.v1.policy.config.*`) over a catalog of keys; see docs/config.md. */
@Module({})
export class PlatformConfigModule {
  /** Serves `catalog` (the platform's `platformConfigCatalog`); refuses a catalog with problems at start. */
  static forCatalog(catalog: ConfigCatalog): DynamicModule {
    const problems = configCatalogProblems(catalog);
    if (problems.length > 0) {
      throw new Error(`invalid config catalog: ${problems.join('; ')}`);
    }

    return {
      module: PlatformConfigModule,
      controllers: [ConfigHandlers],
      providers: [
        { provide: CONFIG_CATALOG, useValue: catalog },
        ConfigRepository,
        ConfigBucketClient,
        ConfigPublisher,
        ConfigService,
        ConfigAudit,
        ConfigMetrics,
      ],
    };
  }
}
