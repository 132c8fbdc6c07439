import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { RegistrationTokenCreated, RegistrationTokenCreateRequest } from '@vivified/contracts';
import { ErrorCode, registrationTokenLimits, VivifiedError } from '@vivified/contracts';
import type { KeyedHasher } from '@vivified/crypto';
import { randomToken } from '@vivified/crypto';
import type { Principal } from '@vivified/nats-transport';

import { actorOf, PluginAudit } from './plugin-audit';
import type { Tx } from './plugins.repository';
import { RegistrationTokensRepository } from './registration-tokens.repository';

/** Injection token of the keyed hasher of registration tokens (purpose `registry.registration-token`). */
export const REGISTRATION_TOKEN_HASHER = Symbol('REGISTRATION_TOKEN_HASHER');

/** A token accepted for one registration. */
export interface RedeemedToken {
  id: string;
  pluginId?: string;
}

/** One answer for every unusable token (unknown, used, expired, for another plugin): no oracle. */
const refused = () =>
  new VivifiedError(ErrorCode.Unauthenticated, 'invalid registration token', {
    reason: 'invalid_registration_token',
  });

/**
 * One-time registration tokens an admin creates for a plugin author or a deployment pipeline: 256 random bits,
 * stored as a keyed hash, expiring, used by one successful registration (a registration that fails leaves the
 * token usable; two at once are serialized by the row lock).
 */
@Injectable()
export class RegistrationTokensService {
  constructor(
    private readonly repository: RegistrationTokensRepository,
    private readonly audit: PluginAudit,
    @Inject(REGISTRATION_TOKEN_HASHER) private readonly hasher: KeyedHasher,
  ) {}

  async create(
    request: RegistrationTokenCreateRequest,
    principal: Principal,
  ): Promise<RegistrationTokenCreated> {
    const token = randomToken(32);
    const id = randomUUID();
    const createdAt = new Date();
    const expiresAt = new Date(
      createdAt.getTime() + (request.ttlSeconds ?? registrationTokenLimits.defaultTtlSeconds) * 1000,
    );
    const actor = actorOf(principal);
    await this.repository.insert({
      id,
      tokenHash: this.hasher.hash(token),
      createdBy: actor.id,
      createdAt,
      expiresAt,
      ...(request.pluginId ? { pluginId: request.pluginId } : {}),
      ...(request.note ? { note: request.note } : {}),
    });
    await this.audit.record('plugin.registration_token.create', 'success', actor, request.pluginId, {
      tokenId: id,
      expiresAt: expiresAt.toISOString(),
    });

    return {
      id,
      token,
      expiresAt: expiresAt.toISOString(),
      ...(request.pluginId ? { pluginId: request.pluginId } : {}),
    };
  }

  /** Checks a token inside the registration's transaction (its row stays locked until the end). */
  async redeem(tx: Tx, token: string, pluginId: string): Promise<RedeemedToken> {
    const record = await this.repository.lock(tx, this.hasher.hash(token));
    if (
      !record ||
      record.usedAt !== undefined ||
      record.expiresAt.getTime() <= Date.now() ||
      (record.pluginId !== undefined && record.pluginId !== pluginId)
    ) {
      throw refused();
    }

    return { id: record.id, ...(record.pluginId ? { pluginId: record.pluginId } : {}) };
  }

  async markUsed(tx: Tx, id: string, pluginId: string): Promise<void> {
    await this.repository.markUsed(tx, id, pluginId, new Date());
  }
}
