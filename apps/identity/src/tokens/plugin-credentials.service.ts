import { Inject, Injectable, Optional } from '@nestjs/common';
import type { AccessToken, PluginCredential, PluginCredentialRevoked } from '@vivified/contracts';
import { ErrorCode, tokenContract, VivifiedError } from '@vivified/contracts';
import type { KeyedHasher } from '@vivified/crypto';
import { randomToken } from '@vivified/crypto';
import type { Principal } from '@vivified/nats-transport';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

import type { Clock } from './clock';
import { CLOCK, systemClock } from './clock';
import { PLUGIN_SECRET_HASHER } from './crypto.providers';
import { PluginCredentialsRepository } from './plugin-credentials.repository';
import { PluginStatusClient } from './plugin-status.client';
import { actorOf } from './principal';
import { TokenSigner } from './token-signer.service';

/** Compared against when a plugin has no secret, so an unknown plugin costs the same as a wrong secret. */
const NO_SECRET = '0'.repeat(64);

const invalidCredentials = () =>
  new VivifiedError(ErrorCode.Unauthenticated, 'invalid credentials', { reason: 'invalid_credentials' });

/**
 * Plugin client secrets and the plugin tokens they buy (ADR-0005). A secret is 256 random bits, so a keyed hash
 * (HMAC-SHA256) is enough to store it: there is nothing to brute-force that a slow password hash would protect.
 */
@Injectable()
export class PluginCredentialsService {
  private readonly clock: Clock;

  constructor(
    private readonly repository: PluginCredentialsRepository,
    private readonly statuses: PluginStatusClient,
    private readonly signer: TokenSigner,
    @Inject(PLUGIN_SECRET_HASHER) private readonly hasher: KeyedHasher,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Optional() @Inject(CLOCK) clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  /** Creates or replaces a plugin's client secret; the secret is answered here and never again. */
  async issue(pluginId: string, actor: Principal): Promise<PluginCredential> {
    const clientSecret = randomToken(32);
    await this.repository.upsert(pluginId, this.hasher.hash(clientSecret), this.clock.now());
    await this.emit('plugin_credential.issue', 'success', pluginId, actorOf(actor));

    return { pluginId, clientSecret };
  }

  async revoke(pluginId: string, actor: Principal): Promise<PluginCredentialRevoked> {
    const revoked = await this.repository.revoke(pluginId, this.clock.now());
    await this.emit('plugin_credential.revoke', 'success', pluginId, actorOf(actor), { revoked });

    return { pluginId, revoked };
  }

  /** Exchanges a plugin's credentials for a plugin token with the traits the registry approved. */
  async token(pluginId: string, clientSecret: string): Promise<AccessToken> {
    const digest = await this.repository.activeHash(pluginId);
    const valid = this.hasher.verify(clientSecret, digest ?? NO_SECRET) && digest !== undefined;
    const actor = { kind: 'plugin' as const, id: `plugin:${pluginId}` };
    if (!valid) {
      await this.emit('token.plugin', 'denied', pluginId, actor, { reason: 'invalid_credentials' }, 'auth');
      throw invalidCredentials();
    }
    const status = await this.statuses.get(pluginId);
    if (!status.found || status.entry.status !== 'active') {
      const reason = status.found ? `plugin_${status.entry.status}` : `plugin_status_${status.reason}`;
      await this.emit('token.plugin', 'denied', pluginId, actor, { reason }, 'auth');
      throw new VivifiedError(ErrorCode.PluginInactive, 'plugin is not active', { reason });
    }
    const { token, expiresIn } = await this.signer.sign({
      sub: `plugin:${pluginId}`,
      typ: 'plugin',
      traits: status.entry.traits,
      lifetime: tokenContract.lifetimes.plugin,
    });
    await this.emit('token.plugin', 'success', pluginId, actor, { traits: status.entry.traits }, 'auth');

    return { accessToken: token, expiresIn, tokenType: 'Bearer' };
  }

  private async emit(
    action: string,
    outcome: 'success' | 'denied',
    pluginId: string,
    actor: { kind: Principal['kind']; id: string },
    details: Record<string, unknown> = {},
    category: 'plugin' | 'auth' = 'plugin',
  ): Promise<void> {
    await this.audit.emit({
      category,
      action,
      outcome,
      actor,
      target: `plugin:${pluginId}`,
      pluginId,
      details,
    });
  }
}
