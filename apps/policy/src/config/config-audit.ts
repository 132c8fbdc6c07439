import { Inject, Injectable } from '@nestjs/common';
import type { AuditActor, AuditOutcome } from '@vivified/contracts';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

/** The audit target of the platform config. */
export const configTarget = 'config:platform';

/** Audit records of config changes (category `config`); `details` names keys, never a sensitive value. */
@Injectable()
export class ConfigAudit {
  constructor(@Inject(AUDIT_EMITTER) private readonly emitter: AuditEmitter) {}

  async record(
    action: 'config.update' | 'config.publish',
    outcome: AuditOutcome,
    actor: Pick<AuditActor, 'kind' | 'id'>,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.emitter.emit({ category: 'config', action, outcome, actor, target: configTarget, details });
  }
}
