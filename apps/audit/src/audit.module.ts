import { Module } from '@nestjs/common';

import { AuditHandlers } from './audit.handlers';
import { AuditMetrics } from './audit-metrics';
import { ChainWriter } from './chain/chain-writer.service';
import { CheckpointSigner } from './chain/checkpoint-signer';
import { ComplianceService } from './compliance/compliance.service';
import { PluginsBucketClient } from './compliance/plugins-bucket.client';
import { InfoHandlers } from './info/info.handlers';
import { IngestConsumer } from './ingest/ingest.consumer';
import { IngestService } from './ingest/ingest.service';
import { QueryService } from './query/query.service';
import { MaintenanceService } from './retention/maintenance.service';
import { AuditRepository } from './store/audit.repository';
import { VerifyService } from './verify/verify.service';

/**
 * The audit service: ingests VIVIFIED_AUDIT in batches into an append-only, hash-chained, partitioned table with
 * signed checkpoints; query, export, verify and the HIPAA 164.312 compliance report.
 */
@Module({
  controllers: [InfoHandlers, AuditHandlers],
  providers: [
    AuditRepository,
    AuditMetrics,
    CheckpointSigner,
    ChainWriter,
    IngestService,
    IngestConsumer,
    QueryService,
    VerifyService,
    MaintenanceService,
    PluginsBucketClient,
    ComplianceService,
  ],
})
export class AuditModule {}
