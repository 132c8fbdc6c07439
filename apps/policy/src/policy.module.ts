import { Module } from '@nestjs/common';
import { platformConfigCatalog } from '@vivified/contracts';

import { BundleBucketClient } from './bundle/bundle-bucket.client';
import { bundleKeysProvider } from './bundle/bundle-keys.provider';
import { BundleService } from './bundle/bundle.service';
import { PlatformConfigModule } from './config/platform-config.module';
import { DecisionsHandlers } from './decisions/decisions.handlers';
import { DecisionsService } from './decisions/decisions.service';
import { InfoHandlers } from './info/info.handlers';
import { PolicyAudit } from './policy-audit';
import { PolicyMetrics } from './policy-metrics';
import { RulesHandlers } from './rules/rules.handlers';
import { RulesRepository } from './rules/rules.repository';
import { RulesService } from './rules/rules.service';
import { TraitsHandlers } from './traits/traits.handlers';
import { TraitsService } from './traits/traits.service';

/**
 * The policy service: admin rules with history, signed bundles in KV, decide, simulate, the trait vocabulary and
 * the platform config.
 */
@Module({
  imports: [PlatformConfigModule.forCatalog(platformConfigCatalog)],
  controllers: [InfoHandlers, RulesHandlers, DecisionsHandlers, TraitsHandlers],
  providers: [
    bundleKeysProvider,
    BundleBucketClient,
    BundleService,
    RulesRepository,
    RulesService,
    DecisionsService,
    TraitsService,
    PolicyAudit,
    PolicyMetrics,
  ],
})
export class PolicyModule {}
