import { randomUUID } from 'node:crypto';

import { Inject, Injectable, Optional } from '@nestjs/common';
import type {
  AccessToken,
  ApiKeyList,
  ApiKeySummary,
  AuditOutcome,
  CreateApiKeyRequest,
  CreatedApiKey,
} from '@vivified/contracts';
import { ErrorCode, tokenContract, VivifiedError } from '@vivified/contracts';
import type { KeyedHasher } from '@vivified/crypto';
import { randomToken } from '@vivified/crypto';
import type { Principal } from '@vivified/nats-transport';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

import type { UserDirectory } from '../identity.ports';
import { USER_DIRECTORY } from '../identity.ports';
import type { ApiKeyRow } from './api-keys.repository';
import { ApiKeysRepository } from './api-keys.repository';
import type { Clock } from './clock';
import { CLOCK, systemClock } from './clock';
import { API_KEY_HASHER } from './crypto.providers';
import { TokenSigner } from './token-signer.service';

/** Every API key starts with this, so scanners and people can tell what leaked. */
export const API_KEY_PREFIX = 'viv_';
const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_DAYS = 90;
/** Keys a user may hold at once (not revoked, not expired). */
const MAX_USABLE_KEYS = 50;

const invalidKey = (reason: string) =>
  new VivifiedError(ErrorCode.Unauthenticated, 'invalid API key', { reason });

function summaryOf(row: ApiKeyRow): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    ...(row.lastUsedAt ? { lastUsedAt: row.lastUsedAt.toISOString() } : {}),
    ...(row.revokedAt ? { revokedAt: row.revokedAt.toISOString() } : {}),
  };
}

/**
 * A user's API keys (ADR-0005): stored as keyed hashes, exchanged for short-lived access tokens whose traits
 * are the owner's current traits narrowed to the key's scopes.
 */
@Injectable()
export class ApiKeysService {
  private readonly clock: Clock;

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly signer: TokenSigner,
    @Inject(API_KEY_HASHER) private readonly hasher: KeyedHasher,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Optional() @Inject(CLOCK) clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  /** Creates a key of the caller; it may carry only traits the caller holds now. */
  async create(caller: Principal, request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    const user = await this.users.findActive(caller.id);
    if (!user) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'user is not active', { reason: 'user_inactive' });
    }
    // the token in hand may itself be narrowed (an API-key token): a key never widens what its creator holds
    const held = new Set(user.traits.filter((trait) => caller.traits.includes(trait)));
    const refused = request.scopes.filter((scope) => !held.has(scope));
    if (refused.length > 0) {
      throw new VivifiedError(
        ErrorCode.PolicyDenied,
        `scopes not held by the caller: ${refused.join(', ')}`,
        {
          reason: 'scope_not_held',
        },
      );
    }
    const now = this.clock.now();
    if ((await this.repository.countUsable(user.id, now)) >= MAX_USABLE_KEYS) {
      throw new VivifiedError(ErrorCode.Conflict, `at most ${MAX_USABLE_KEYS} API keys per user`, {
        reason: 'api_key_limit',
      });
    }
    const id = randomUUID();
    const apiKey = `${API_KEY_PREFIX}${randomToken(32)}`;
    const expiresAt = new Date(now.getTime() + (request.expiresInDays ?? DEFAULT_DAYS) * DAY_MS);
    await this.repository.insert({
      id,
      userId: user.id,
      name: request.name,
      scopes: request.scopes,
      keyHash: this.hasher.hash(apiKey),
      createdAt: now,
      expiresAt,
    });
    await this.emit('api_key.create', 'success', user.id, id, {
      name: request.name,
      scopes: request.scopes,
      expiresAt: expiresAt.toISOString(),
    });

    return { id, apiKey, name: request.name, scopes: request.scopes, expiresAt: expiresAt.toISOString() };
  }

  async list(caller: Principal): Promise<ApiKeyList> {
    return { keys: (await this.repository.listOfUser(caller.id)).map(summaryOf) };
  }

  async revoke(caller: Principal, id: string): Promise<void> {
    const row = await this.repository.revoke(id, caller.id, this.clock.now());
    if (!row) {
      throw new VivifiedError(ErrorCode.NotFound, 'API key not found', { reason: 'api_key_not_found' });
    }
    await this.emit('api_key.revoke', 'success', caller.id, id, {});
  }

  /** Exchanges a key for a user access token narrowed to the key's scopes. */
  async token(apiKey: string): Promise<AccessToken> {
    const row = apiKey.startsWith(API_KEY_PREFIX)
      ? await this.repository.findByHash(this.hasher.hash(apiKey))
      : undefined;
    if (!row) {
      await this.audit.emit({
        category: 'auth',
        action: 'api_key.use',
        outcome: 'denied',
        actor: { kind: 'anonymous', id: 'anonymous' },
        details: { reason: 'api_key_invalid' },
      });
      throw invalidKey('api_key_invalid');
    }
    const now = this.clock.now();
    const refusal = row.revokedAt ? 'api_key_revoked' : row.expiresAt <= now ? 'api_key_expired' : undefined;
    const standing = refusal ? undefined : await this.users.loginStanding(row.userId);
    // an account flagged to change its password (an admin reset it, or it never set its own) gets no token from a
    // key either until its owner has chosen a password: a reset after a suspected compromise covers its keys too
    const user = standing && !standing.mustChangePassword ? standing.user : undefined;
    if (refusal || !user) {
      const reason = refusal ?? (standing ? 'password_change_required' : 'user_inactive');
      await this.emit('api_key.use', 'denied', row.userId, row.id, { reason });
      throw invalidKey(reason);
    }
    const scopes = new Set(row.scopes);
    const traits = user.traits.filter((trait) => scopes.has(trait));
    // no roles claim: roles stand for the owner's full traits, which a key does not carry; no session, and `amr` says
    // how it was obtained, so credential management refuses it (docs/identity.md "… needs an interactive session")
    const { token, expiresIn } = await this.signer.sign({
      sub: `user:${user.id}`,
      typ: 'user',
      traits,
      method: tokenContract.apiKeyMethod,
      lifetime: tokenContract.lifetimes.userAccess,
    });
    await this.repository.touch(row.id, now);
    await this.emit('api_key.use', 'success', user.id, row.id, { traits });

    return { accessToken: token, expiresIn, tokenType: 'Bearer' };
  }

  private async emit(
    action: string,
    outcome: AuditOutcome,
    userId: string,
    keyId: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.emit({
      category: 'auth',
      action,
      outcome,
      actor: { kind: 'user', id: `user:${userId}` },
      target: `api-key:${keyId}`,
      details,
    });
  }
}
