import { Inject, Injectable } from '@nestjs/common';
import type { AuditOutcome } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

/** Who did something to a plugin, as audit records name it. */
export interface AuditActorRef {
  kind: 'user' | 'plugin' | 'service' | 'anonymous';
  id: string;
}

/** `user:<id>` and the like. */
export function actorOf(principal: Principal): AuditActorRef {
  return { kind: principal.kind, id: `${principal.kind}:${principal.id}` };
}

/** The registry's own actor (health changes it decides). */
export const REGISTRY_ACTOR: AuditActorRef = { kind: 'service', id: 'service:registry' };

/** Audit records of plugin actions (category `plugin`); details never hold a secret. */
@Injectable()
export class PluginAudit {
  constructor(@Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter) {}

  async record(
    action: string,
    outcome: AuditOutcome,
    actor: AuditActorRef,
    pluginId: string | undefined,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.emit({
      category: 'plugin',
      action,
      outcome,
      actor,
      ...(pluginId === undefined ? {} : { target: `plugin:${pluginId}`, pluginId }),
      details,
    });
  }
}
