import { Inject, Injectable } from '@nestjs/common';
import type { AuditActor, AuditOutcome } from '@vivified/contracts';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

/** One audited policy event (category `policy`); never a token or secret in `details`. */
export interface PolicyAuditEntry {
  action: 'rules.update' | 'bundle.rejected' | 'bundle.published';
  outcome: AuditOutcome;
  actor: Pick<AuditActor, 'kind' | 'id'>;
  target: string;
  details: Record<string, unknown>;
}

/** The audit target of the admin rule set. */
export const rulesTarget = 'policy:rules';

/** The audit target of the published bundle. */
export const bundleTarget = 'policy:bundle';

/** Audit records of the policy service (category `policy`). */
@Injectable()
export class PolicyAudit {
  constructor(@Inject(AUDIT_EMITTER) private readonly emitter: AuditEmitter) {}

  async record(entry: PolicyAuditEntry): Promise<void> {
    await this.emitter.emit({ category: 'policy', ...entry });
  }
}
