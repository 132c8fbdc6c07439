import { Inject, Injectable } from '@nestjs/common';
import type { AuditActor, AuditVerifyReply, AuditVerifyRequest } from '@vivified/contracts';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

import { AuditMetrics } from '../audit-metrics';
import { AuditRepository } from '../store/audit.repository';
import { verifyChain } from './chain-verifier';

/** Verifies the chain and checkpoints, keeps the result, and audits the verification. */
@Injectable()
export class VerifyService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly metrics: AuditMetrics,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
  ) {}

  async verify(
    actor: Pick<AuditActor, 'kind' | 'id'>,
    request: AuditVerifyRequest,
  ): Promise<AuditVerifyReply> {
    const result = await this.run(request);
    await this.record(actor, result);

    return result;
  }

  /**
   * The scheduled check: the rows stored since the last intact verification (all of them after a broken one or on
   * the first run) and every checkpoint. Audited only when something is broken.
   */
  async verifyRecent(): Promise<AuditVerifyReply> {
    const last = await this.repository.lastVerification();
    const result = await this.run(last?.ok && last.toSeq > 0 ? { fromSeq: last.toSeq } : {});
    if (!result.ok) {
      await this.record({ kind: 'service', id: 'service:audit' }, result);
    }

    return result;
  }

  private async run(request: AuditVerifyRequest): Promise<AuditVerifyReply> {
    const result = await verifyChain(this.repository, request);
    this.metrics.verified(result.ok);
    await this.repository.saveVerification({
      ok: result.ok,
      fromSeq: result.fromSeq,
      toSeq: result.toSeq,
      rowsChecked: result.rowsChecked,
      problem: result.ok
        ? undefined
        : { row: result.firstBrokenRow, checkpoint: result.firstBrokenCheckpoint },
      verifiedAt: new Date(result.verifiedAt),
    });

    return result;
  }

  private async record(actor: Pick<AuditActor, 'kind' | 'id'>, result: AuditVerifyReply): Promise<void> {
    await this.audit.emit({
      category: 'audit',
      action: 'audit.verify',
      outcome: result.ok ? 'success' : 'failure',
      actor,
      details: {
        fromSeq: result.fromSeq,
        toSeq: result.toSeq,
        rowsChecked: result.rowsChecked,
        ...(result.firstBrokenRow ? { firstBrokenRow: result.firstBrokenRow } : {}),
        ...(result.firstBrokenCheckpoint ? { firstBrokenCheckpoint: result.firstBrokenCheckpoint } : {}),
      },
    });
  }
}
