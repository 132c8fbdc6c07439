import { Injectable } from '@nestjs/common';
import type { HeartbeatStatus, PluginHealth, PluginHeartbeatReply } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';

import { actorOf, PluginAudit, REGISTRY_ACTOR } from '../plugins/plugin-audit';
import type { PluginRecord } from '../plugins/plugin-record';
import { PluginsRepository } from '../plugins/plugins.repository';
import { healthAt } from './plugin-health';

/**
 * Heartbeats and health: a plugin heartbeats only for itself; health moves between unknown, healthy, degraded
 * and unhealthy with the heartbeats and the ones missed. A change is stored with a compare-and-set, so with
 * several registry replicas each change is audited once.
 */
@Injectable()
export class PluginHealthService {
  constructor(
    private readonly repository: PluginsRepository,
    private readonly audit: PluginAudit,
  ) {}

  async heartbeat(
    pluginId: string,
    status: HeartbeatStatus,
    principal: Principal,
  ): Promise<PluginHeartbeatReply> {
    // the sidecar already decided on the payload's plugin id; this keeps the rule where the data is
    if (principal.kind !== 'plugin' || principal.id !== pluginId) {
      throw new VivifiedError(ErrorCode.PolicyDenied, 'a plugin heartbeats only for itself', {
        reason: 'not_own_plugin',
      });
    }
    const now = new Date();
    const beat = await this.repository.heartbeat(pluginId, status, now);
    if (!beat || beat.after.status !== 'active') {
      throw new VivifiedError(ErrorCode.PluginInactive, 'plugin not active', { reason: 'plugin_not_active' });
    }
    const health = await this.move(beat.before, healthAt(beat.after, now), actorOf(principal));

    return { health, intervalSeconds: beat.after.manifest.healthCheck.intervalSeconds };
  }

  /**
   * Records a successful HTTP health poll of a plugin exactly as a heartbeat: same stored fields, same health
   * moves and audit records (actor: the registry). Answers the health, or undefined when the plugin is gone or no
   * longer active (its polling stops).
   */
  async polled(pluginId: string, status: HeartbeatStatus): Promise<PluginHealth | undefined> {
    const now = new Date();
    const beat = await this.repository.heartbeat(pluginId, status, now);
    if (!beat || beat.after.status !== 'active') {
      return undefined;
    }

    return this.move(beat.before, healthAt(beat.after, now), REGISTRY_ACTOR);
  }

  /** Recomputes the health of every active plugin; answers how many changed. */
  async sweep(now = new Date()): Promise<number> {
    let changed = 0;
    for (const record of await this.repository.list('active')) {
      const next = healthAt(record, now);
      if (next !== record.health && (await this.move(record, next, REGISTRY_ACTOR)) === next) {
        changed += 1;
      }
    }

    return changed;
  }

  private async move(
    record: PluginRecord,
    next: PluginHealth,
    actor: { kind: 'user' | 'plugin' | 'service' | 'anonymous'; id: string },
  ): Promise<PluginHealth> {
    if (next === record.health) {
      return next;
    }
    if (await this.repository.changeHealth(record.id, record.health, next)) {
      await this.audit.record('plugin.health', 'success', actor, record.id, {
        from: record.health,
        to: next,
      });
    }

    return next;
  }
}
