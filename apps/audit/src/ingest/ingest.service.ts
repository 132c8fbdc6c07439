import { Inject, Injectable } from '@nestjs/common';
import type { AuditRecord } from '@vivified/contracts';
import type { ServiceLogger } from '@vivified/service-kit';
import { KEK_PROVIDER, SERVICE_LOGGER } from '@vivified/service-kit';
import type { KekProvider } from '@vivified/crypto';
import { KeyedHasher } from '@vivified/crypto';

import { AuditMetrics } from '../audit-metrics';
import type { AppendResult } from '../chain/chain-writer.service';
import { ChainWriter } from '../chain/chain-writer.service';
import { IngestSanitizer } from './ingest-sanitizer';

/** KeyedHasher purpose of identifiers in stored audit records. */
export const IDENTIFIER_PURPOSE = 'audit.identifier';

/** Sanitizes validated records again and appends them to the chain. */
@Injectable()
export class IngestService {
  private sanitizer: IngestSanitizer | undefined;

  constructor(
    private readonly writer: ChainWriter,
    private readonly metrics: AuditMetrics,
    @Inject(KEK_PROVIDER) private readonly kekProvider: KekProvider,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  /** Stores a batch of records (each once, in order); resolves when committed. */
  async ingest(records: readonly AuditRecord[]): Promise<AppendResult> {
    const sanitizer = await this.ingestSanitizer();
    const clean = records.map((record) => sanitizer.record({ ...record, id: record.id.toLowerCase() }));
    const result = await this.writer.append(clean);
    this.metrics.batchStored(records.length, result.inserted, result.duplicates);
    if (result.checkpointed) {
      this.metrics.checkpointWritten();
    }

    return result;
  }

  /** A record that can never be stored (not JSON, not a valid record). */
  rejected(reason: string): void {
    this.metrics.invalid();
    this.logger.warn({ reason }, 'invalid audit record terminated');
  }

  private async ingestSanitizer(): Promise<IngestSanitizer> {
    if (!this.sanitizer) {
      const hasher = await KeyedHasher.fromProvider(this.kekProvider, IDENTIFIER_PURPOSE);
      this.sanitizer = new IngestSanitizer((value) => `hmac:${hasher.hash(value)}`);
    }

    return this.sanitizer;
  }
}
