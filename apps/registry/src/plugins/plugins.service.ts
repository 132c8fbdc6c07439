import { Inject, Injectable } from '@nestjs/common';
import type {
  PluginListReply,
  PluginNatsCredentialsReply,
  PluginStatus,
  PluginTransitionReply,
  PluginValidateReply,
  PluginView,
} from '@vivified/contracts';
import { ErrorCode, sensitiveApproverTraits, VivifiedError } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';
import type { ServiceLogger } from '@vivified/service-kit';
import { SERVICE_LOGGER } from '@vivified/service-kit';

import type { CheckedManifest } from './manifest-check';
import { requireValidManifest, validationReply } from './manifest-check';
import type { AuditActorRef } from './plugin-audit';
import { actorOf, PluginAudit } from './plugin-audit';
import type { IssuedCredentials } from './plugin-credentials.client';
import { PluginCredentialsClient } from './plugin-credentials.client';
import { PluginLifecycleClient } from './plugin-lifecycle.client';
import type { PluginRecord } from './plugin-record';
import {
  beyondApproved,
  grantedTraits,
  isEmptySet,
  revokedEntry,
  statusEntry,
  summaryOf,
  viewOf,
} from './plugin-record';
import { PluginStatusClient } from './plugin-status.client';
import type { Tx } from './plugins.repository';
import { PluginsRepository } from './plugins.repository';
import type { RedeemedToken } from './registration-tokens.service';
import { RegistrationTokensService } from './registration-tokens.service';

/** Who registers: a plugin manager, or the holder of a registration token. */
export type Registrant = { kind: 'user'; principal: Principal } | { kind: 'token'; token: string };

const notFound = () =>
  new VivifiedError(ErrorCode.NotFound, 'plugin not found', { reason: 'plugin_not_found' });

const conflict = (reason: string, message: string) =>
  new VivifiedError(ErrorCode.Conflict, message, { reason });

/** What a committed change still has to do: publish the entry, tell the plugin, audit. */
interface Outcome {
  record: PluginRecord;
  reply: PluginTransitionReply;
  event: string;
  details: Record<string, unknown>;
}

/**
 * Registration and lifecycle (issue 5): pending_approval → active ⇄ disabled → revoked. Every change is written to
 * PostgreSQL and to the `vivified_plugins` bucket: a change that takes rights away is published before the
 * transaction commits (a failed publish keeps the old state), one that grants rights after (a failed publish
 * leaves the plugin refused until the next reconciliation). The call that makes a plugin active answers its
 * credentials once; nothing else ever answers a secret.
 */
@Injectable()
export class PluginsService {
  constructor(
    private readonly repository: PluginsRepository,
    private readonly tokens: RegistrationTokensService,
    private readonly statuses: PluginStatusClient,
    private readonly credentials: PluginCredentialsClient,
    private readonly lifecycle: PluginLifecycleClient,
    private readonly audit: PluginAudit,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {}

  async validate(manifest: unknown): Promise<PluginValidateReply> {
    return validationReply(manifest, await this.repository.ids());
  }

  async list(status?: PluginStatus): Promise<PluginListReply> {
    if (status === 'revoked') {
      return { plugins: [] };
    }

    return { plugins: (await this.repository.list(status)).map(summaryOf) };
  }

  async get(id: string): Promise<PluginView> {
    const record = await this.repository.get(id);
    if (!record) {
      throw notFound();
    }

    return viewOf(record);
  }

  /** Registers a new plugin or upgrades a registered one. */
  async register(input: unknown, registrant: Registrant): Promise<PluginTransitionReply> {
    const actor: AuditActorRef =
      registrant.kind === 'user'
        ? actorOf(registrant.principal)
        : { kind: 'anonymous', id: 'registration-token' };
    const claimedId = this.claimedId(input);
    let checked: CheckedManifest;
    try {
      checked = requireValidManifest(input, await this.repository.ids());
    } catch (error) {
      const violations = (error as VivifiedError).details?.length ?? 0;
      await this.audit.record('plugin.register', 'failure', actor, claimedId, {
        reason: 'manifest_invalid',
        violations,
      });
      throw error;
    }
    const id = checked.manifest.id;
    let outcome: Outcome;
    try {
      outcome = await this.repository.transaction(async (tx) => {
        let registeredBy = actor.id;
        let redeemed: RedeemedToken | undefined;
        if (registrant.kind === 'token') {
          redeemed = await this.tokens.redeem(tx, registrant.token, id);
          registeredBy = `registration-token:${redeemed.id}`;
        }
        const existing = await this.repository.lock(tx, id);
        if (existing && redeemed && redeemed.pluginId !== id) {
          // an unbound token registers new plugins only: upgrading one needs a token made for it
          throw new VivifiedError(
            ErrorCode.PolicyDenied,
            'this registration token cannot upgrade the plugin',
            {
              reason: 'registration_token_not_for_plugin',
            },
          );
        }
        const result = existing
          ? await this.upgrade(tx, existing, checked, registeredBy)
          : await this.create(tx, checked, registeredBy);
        if (redeemed) {
          await this.tokens.markUsed(tx, redeemed.id, id);
        }

        return result;
      });
    } catch (error) {
      const reason = (error as { reason?: string }).reason ?? 'error';
      await this.audit.record('plugin.register', 'failure', actor, id, { reason });
      throw error;
    }
    await this.finish(outcome, actor, 'plugin.register');

    return outcome.reply;
  }

  async approve(id: string, principal: Principal, reason?: string): Promise<PluginTransitionReply> {
    const actor = actorOf(principal);
    const outcome = await this.guarded('plugin.approve', actor, id, () =>
      this.repository.transaction(async (tx) => {
        const record = await this.locked(tx, id);
        const now = new Date();
        if (record.status === 'pending_approval') {
          this.requireApprover(principal, record.sensitive.traits);
          const checked = requireValidManifest(record.manifest, await this.repository.ids(tx));
          const credentials = await this.credentials.issue(id, checked.manifest);
          const next: PluginRecord = {
            ...record,
            status: 'active',
            traits: grantedTraits(checked.manifest),
            approvedBy: actor.id,
            approvedAt: now,
            activatedAt: now,
            updatedAt: now,
            health: 'unknown',
          };
          await this.repository.save(tx, next);

          return this.outcome(next, 'approved', { sensitive: record.sensitive, reason }, credentials);
        }
        if (!record.pending) {
          throw conflict('nothing_to_approve', 'the plugin has nothing waiting for an approval');
        }
        this.requireApprover(principal, record.pending.sensitive.traits);
        const checked = requireValidManifest(record.pending.manifest, await this.repository.ids(tx));
        const next: PluginRecord = {
          ...this.applied(record, checked),
          approvedBy: actor.id,
          approvedAt: now,
          updatedAt: now,
        };
        await this.repository.save(tx, next);

        return this.outcome(next, 'upgraded', {
          from: record.version,
          to: next.version,
          sensitive: record.pending.sensitive,
          reason,
        });
      }),
    );
    await this.finish(outcome, actor, 'plugin.approve');

    return outcome.reply;
  }

  async enable(id: string, principal: Principal, reason?: string): Promise<PluginTransitionReply> {
    const actor = actorOf(principal);
    const outcome = await this.guarded('plugin.enable', actor, id, () =>
      this.repository.transaction(async (tx) => {
        const record = await this.locked(tx, id);
        if (record.status !== 'disabled') {
          throw conflict(
            'plugin_not_disabled',
            `only a disabled plugin can be enabled (it is ${record.status})`,
          );
        }
        // the rules may have changed since the approval (a dependency removed, a trait blocked)
        const checked = requireValidManifest(record.manifest, await this.repository.ids(tx));
        const credentials = await this.credentials.issue(id, checked.manifest);
        const now = new Date();
        const next: PluginRecord = {
          ...record,
          status: 'active',
          activatedAt: now,
          updatedAt: now,
          health: 'unknown',
        };
        await this.repository.save(tx, next);

        return this.outcome(next, 'enabled', { reason }, credentials);
      }),
    );
    await this.finish(outcome, actor, 'plugin.enable');

    return outcome.reply;
  }

  async disable(id: string, principal: Principal, reason?: string): Promise<PluginTransitionReply> {
    const actor = actorOf(principal);
    const outcome = await this.guarded('plugin.disable', actor, id, () =>
      this.repository.transaction(async (tx) => {
        const record = await this.locked(tx, id);
        if (record.status !== 'active') {
          throw conflict(
            'plugin_not_active',
            `only an active plugin can be disabled (it is ${record.status})`,
          );
        }
        const now = new Date();
        const next: PluginRecord = { ...record, status: 'disabled', updatedAt: now, health: 'unknown' };
        await this.repository.save(tx, next);
        // taking rights away: published before the commit, so a failed publish leaves the plugin as it was
        await this.statuses.put(statusEntry(next, now));

        return this.outcome(next, 'disabled', { reason });
      }),
    );
    outcome.details.credentialsRevoked = await this.credentials.revoke(id);
    await this.finish(outcome, actor, 'plugin.disable', true);

    return outcome.reply;
  }

  /** Revokes a plugin: removed with its config, refused everywhere, its credentials revoked. */
  async remove(id: string, principal: Principal, reason?: string): Promise<PluginTransitionReply> {
    const actor = actorOf(principal);
    const outcome = await this.guarded('plugin.revoke', actor, id, () =>
      this.repository.transaction(async (tx): Promise<Outcome> => {
        const record = await this.locked(tx, id);
        await this.repository.delete(tx, id);
        await this.statuses.put(revokedEntry(record, new Date()));

        return {
          record,
          reply: { id, status: 'revoked' as const, version: record.version },
          event: 'revoked',
          details: { previous: record.status, reason },
        };
      }),
    );
    outcome.details.credentialsRevoked = await this.credentials.revoke(id);
    await this.finish(outcome, actor, 'plugin.revoke', true);

    return outcome.reply;
  }

  /**
   * New NATS user credentials for an active plugin, asked by the plugin itself (the sidecar refused it if it is
   * not active; the row is checked again so a plugin disabled meanwhile gets nothing).
   */
  async renewNatsCredentials(id: string, principal: Principal): Promise<PluginNatsCredentialsReply> {
    if (principal.kind !== 'plugin' || principal.id !== id) {
      throw new VivifiedError(ErrorCode.PolicyDenied, 'a plugin renews only its own credentials', {
        reason: 'not_own_plugin',
      });
    }
    const record = await this.repository.get(id);
    if (record?.status !== 'active') {
      throw new VivifiedError(ErrorCode.PluginInactive, 'plugin not active', { reason: 'plugin_not_active' });
    }
    const natsCreds = await this.credentials.renewNats(id, record.manifest);
    await this.audit.record('plugin.nats_credentials.renew', 'success', actorOf(principal), id, {
      issued: natsCreds !== undefined,
    });

    return { pluginId: id, ...(natsCreds === undefined ? {} : { natsCreds }) };
  }

  /**
   * Writes the entry of every plugin whose entry differs from the database (start, and periodically); entries of
   * deleted plugins stay. A differing plugin is compared again under its row lock, so a change in flight (whose
   * entry is published before its commit) is never overwritten with the state it is leaving.
   */
  async reconcile(): Promise<number> {
    const current = await this.statuses.entries();
    let written = 0;
    for (const listed of await this.repository.list()) {
      const stored = current.get(listed.id);
      if (stored !== undefined && this.sameEntry(stored, JSON.stringify(statusEntry(listed, new Date())))) {
        continue;
      }
      written += await this.repository.transaction(async (tx) => {
        const record = await this.repository.lock(tx, listed.id);
        if (!record) {
          return 0;
        }
        const entry = statusEntry(record, new Date());
        const now = (await this.statuses.entries(record.id)).get(record.id);
        if (now !== undefined && this.sameEntry(now, JSON.stringify(entry))) {
          return 0;
        }
        await this.statuses.put(entry);

        return 1;
      });
    }

    return written;
  }

  private sameEntry(stored: string, fresh: string): boolean {
    const strip = (text: string) => {
      const { updatedAt: _ignored, ...rest } = JSON.parse(text) as Record<string, unknown>;

      return JSON.stringify(rest);
    };

    try {
      return strip(stored) === strip(fresh);
    } catch {
      return false;
    }
  }

  private async create(tx: Tx, checked: CheckedManifest, registeredBy: string): Promise<Outcome> {
    const { manifest } = checked;
    const now = new Date();
    const active = !checked.requiresApproval;
    const record: PluginRecord = {
      id: manifest.id,
      status: active ? 'active' : 'pending_approval',
      name: manifest.name,
      version: manifest.version,
      description: manifest.description,
      manifest,
      manifestDigest: checked.digest,
      traits: active ? grantedTraits(manifest) : [],
      sensitive: checked.sensitive,
      registeredBy,
      registeredAt: now,
      ...(active ? { activatedAt: now } : {}),
      updatedAt: now,
      health: 'unknown',
    };
    await this.repository.insert(tx, record);
    const credentials = active ? await this.credentials.issue(record.id, manifest) : undefined;

    return this.outcome(
      record,
      'registered',
      { version: record.version, sensitive: checked.sensitive },
      credentials,
    );
  }

  /** A re-registration: a new version, applied at once unless it asks for more than the approved one. */
  private async upgrade(
    tx: Tx,
    existing: PluginRecord,
    checked: CheckedManifest,
    registeredBy: string,
  ): Promise<Outcome> {
    const { manifest } = checked;
    if (checked.digest === existing.manifestDigest || checked.digest === existing.pending?.digest) {
      return {
        record: existing,
        reply: {
          id: existing.id,
          status: existing.status,
          version: existing.version,
          upgradePending: !!existing.pending,
        },
        event: 'unchanged',
        details: { unchanged: true },
      };
    }
    if (manifest.version === existing.version) {
      throw conflict('version_unchanged', 'a changed manifest needs a new version');
    }
    const now = new Date();
    if (existing.status === 'pending_approval') {
      // never approved: the new manifest simply replaces the one waiting
      const replaced: PluginRecord = { ...this.applied(existing, checked), traits: [], updatedAt: now };
      if (!checked.requiresApproval) {
        const credentials = await this.credentials.issue(existing.id, manifest);
        const active: PluginRecord = {
          ...replaced,
          status: 'active',
          traits: grantedTraits(manifest),
          activatedAt: now,
        };
        await this.repository.save(tx, active);

        return this.outcome(active, 'registered', { version: active.version, registeredBy }, credentials);
      }
      await this.repository.save(tx, replaced);

      return this.outcome(replaced, 'registered', { version: replaced.version, registeredBy });
    }
    const beyond = beyondApproved(checked.sensitive, existing.sensitive);
    if (!isEmptySet(beyond)) {
      // new sensitive requests: the approved version keeps running until an approval
      const waiting: PluginRecord = {
        ...existing,
        pending: { manifest, digest: checked.digest, sensitive: checked.sensitive },
        updatedAt: now,
      };
      await this.repository.save(tx, waiting);
      const outcome = this.outcome(waiting, 'upgrade_pending', {
        from: existing.version,
        to: manifest.version,
        needsApproval: beyond,
        registeredBy,
      });

      return { ...outcome, reply: { ...outcome.reply, upgradePending: true } };
    }
    const upgraded: PluginRecord = { ...this.applied(existing, checked), updatedAt: now };
    await this.repository.save(tx, upgraded);

    return this.outcome(upgraded, 'upgraded', { from: existing.version, to: upgraded.version, registeredBy });
  }

  /** The record with `checked` in force (approved traits follow the manifest unless it still waits). */
  private applied(record: PluginRecord, checked: CheckedManifest): PluginRecord {
    const { pending: _dropped, ...rest } = record;

    return {
      ...rest,
      name: checked.manifest.name,
      version: checked.manifest.version,
      description: checked.manifest.description,
      manifest: checked.manifest,
      manifestDigest: checked.digest,
      sensitive: checked.sensitive,
      traits: record.status === 'pending_approval' ? [] : grantedTraits(checked.manifest),
    };
  }

  private outcome(
    record: PluginRecord,
    event: string,
    details: Record<string, unknown>,
    credentials?: IssuedCredentials,
  ): Outcome {
    return {
      record,
      event,
      details: {
        ...details,
        ...(credentials ? { credentialsIssued: true, natsCreds: !!credentials.natsCreds } : {}),
      },
      reply: {
        id: record.id,
        status: record.status,
        version: record.version,
        ...(credentials ? { credentials } : {}),
      },
    };
  }

  /** After the commit: publish what grants rights, tell the plugin, audit. */
  private async finish(
    outcome: Outcome,
    actor: AuditActorRef,
    action: string,
    published = false,
  ): Promise<void> {
    const { record, event } = outcome;
    if (event === 'unchanged') {
      return;
    }
    if (!published) {
      try {
        await this.statuses.put(statusEntry(record, new Date()));
      } catch (error) {
        // the plugin stays refused until the entry is written; the next reconciliation writes it
        this.log.error({ err: error, pluginId: record.id }, 'plugin status not published');
      }
    }
    if (event !== 'registered' || record.status === 'active') {
      this.lifecycle.notify({
        pluginId: record.id,
        status: outcome.reply.status,
        event,
        at: new Date().toISOString(),
      });
    }
    await this.audit.record(action, 'success', actor, record.id, {
      event,
      status: outcome.reply.status,
      version: record.version,
      ...outcome.details,
    });
  }

  /** Runs a change; a refusal is audited with its reason before it is answered. */
  private async guarded<T>(
    action: string,
    actor: AuditActorRef,
    id: string,
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: string }).code;
      const outcome = code === ErrorCode.PolicyDenied ? 'denied' : 'failure';
      await this.audit.record(action, outcome, actor, id, {
        reason: (error as { reason?: string }).reason ?? code,
      });
      throw error;
    }
  }

  private async locked(tx: Tx, id: string): Promise<PluginRecord> {
    const record = await this.repository.lock(tx, id);
    if (!record) {
      throw notFound();
    }

    return record;
  }

  /** Sensitive traits are granted by an admin or a security admin, not by any plugin manager. */
  private requireApprover(principal: Principal, sensitiveTraits: readonly string[]): void {
    if (sensitiveTraits.length === 0) {
      return;
    }
    if (!sensitiveApproverTraits.some((trait) => principal.traits.includes(trait))) {
      throw new VivifiedError(ErrorCode.PolicyDenied, 'sensitive traits need an admin or security admin', {
        reason: 'sensitive_approver_required',
      });
    }
  }

  private claimedId(input: unknown): string | undefined {
    const id =
      typeof input === 'object' && input !== null ? (input as Record<string, unknown>).id : undefined;

    return typeof id === 'string' && /^[a-z][a-z0-9-]{2,62}$/.test(id) ? id : undefined;
  }
}
