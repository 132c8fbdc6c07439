import { randomUUID } from 'node:crypto';

import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { AuditOutcome, TokenPair } from '@vivified/contracts';
import { ErrorCode, tokenContract, VivifiedError } from '@vivified/contracts';
import type { KeyedHasher } from '@vivified/crypto';
import { randomToken } from '@vivified/crypto';
import type { AuditEmitter, ServiceLogger } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_LOGGER } from '@vivified/service-kit';

import type { SessionContext, UserDirectory, UserSnapshot } from '../identity.ports';
import { USER_DIRECTORY } from '../identity.ports';
import type { Clock } from './clock';
import { CLOCK, systemClock } from './clock';
import { REFRESH_TOKEN_HASHER } from './crypto.providers';
import { TokenSigner } from './token-signer.service';
import type { LockedRefreshToken } from './sessions.repository';
import { SessionsRepository } from './sessions.repository';

const IDLE_MS = tokenContract.lifetimes.sessionIdle * 1000;
const ABSOLUTE_MS = tokenContract.lifetimes.sessionAbsolute * 1000;
/** Ended sessions are kept this long (for investigations), then deleted with their refresh tokens. */
const ENDED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const CLEANUP_INTERVAL_MS = 60 * 60 * 1000;

/** Why a refresh was refused; the reason of the error reply. */
type Refusal =
  | 'invalid_refresh_token'
  | 'session_revoked'
  | 'refresh_token_reused'
  | 'session_expired'
  | 'user_inactive';

type RefreshOutcome =
  | { ok: true; session: LockedRefreshToken; user: UserSnapshot }
  | { ok: false; refusal: Refusal; session?: LockedRefreshToken; revoked?: string };

const unauthenticated = (reason: Refusal) =>
  new VivifiedError(
    ErrorCode.Unauthenticated,
    reason === 'session_expired' ? 'session expired' : 'invalid refresh token',
    { reason },
  );

/** Sessions as refresh-token families (ADR-0005): rotation on every refresh, reuse detection, timeouts. */
@Injectable()
export class SessionsService implements OnModuleInit, OnModuleDestroy {
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly signer: TokenSigner,
    @Inject(REFRESH_TOKEN_HASHER) private readonly hasher: KeyedHasher,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
    @Optional() @Inject(CLOCK) clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.deleteEnded().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'session cleanup failed'),
      );
    }, CLEANUP_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Deletes sessions that ended more than a week ago; answers how many. */
  async deleteEnded(): Promise<number> {
    const count = await this.repository.deleteEndedBefore(
      new Date(this.clock.now().getTime() - ENDED_RETENTION_MS),
    );
    if (count > 0) {
      this.logger.info({ sessions: count }, 'ended sessions deleted');
    }

    return count;
  }

  /** Opens a session for a user who just proved who they are. */
  async start(user: UserSnapshot, context: SessionContext): Promise<TokenPair> {
    const now = this.clock.now();
    const sessionId = randomUUID();
    const refreshToken = randomToken(32);
    await this.repository.open(
      {
        id: sessionId,
        userId: user.id,
        createdAt: now,
        expiresAt: new Date(now.getTime() + ABSOLUTE_MS),
        method: context.method,
        ...(context.ip ? { ip: context.ip.slice(0, 64) } : {}),
        ...(context.userAgent ? { userAgent: context.userAgent.slice(0, 512) } : {}),
      },
      this.hasher.hash(refreshToken),
    );
    const pair = await this.pair(user, { id: sessionId, method: context.method }, refreshToken);
    await this.emit('session.start', 'success', user.id, sessionId, { method: context.method });

    return pair;
  }

  /** Rotates a refresh token: the old one is spent, the answer holds a new one. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const now = this.clock.now();
    const hash = this.hasher.hash(refreshToken);
    const next = randomToken(32);
    // the user is read before the transaction: a refresh must not hold a connection while it waits for another
    const userId = await this.repository.userOfToken(hash);
    const user = userId ? await this.users.findActive(userId) : undefined;
    const outcome = await this.repository.refresh(async (tx): Promise<RefreshOutcome> => {
      const session = await tx.lock(hash);
      if (!session || session.userId !== userId) {
        return { ok: false, refusal: 'invalid_refresh_token' };
      }
      if (session.revokedAt) {
        return { ok: false, refusal: 'session_revoked', session };
      }
      if (session.usedAt) {
        // a spent token came back: whoever holds the family now may be a thief, so it ends for everyone
        await tx.revoke(session.sessionId, 'refresh_token_reuse', now);

        return { ok: false, refusal: 'refresh_token_reused', session, revoked: 'refresh_token_reuse' };
      }
      const idle = now.getTime() - session.lastUsedAt.getTime() > IDLE_MS;
      if (idle || now >= session.expiresAt) {
        const reason = idle ? 'idle_timeout' : 'absolute_timeout';
        await tx.revoke(session.sessionId, reason, now);

        return { ok: false, refusal: 'session_expired', session, revoked: reason };
      }
      if (!user) {
        await tx.revoke(session.sessionId, 'user_inactive', now);

        return { ok: false, refusal: 'user_inactive', session, revoked: 'user_inactive' };
      }
      await tx.rotate(hash, this.hasher.hash(next), session.sessionId, now);

      return { ok: true, session, user };
    });
    if (!outcome.ok) {
      await this.refused(outcome);
      throw unauthenticated(outcome.refusal);
    }
    const { sessionId, method } = outcome.session;
    const pair = await this.pair(outcome.user, { id: sessionId, method }, next);
    await this.emit('token.refresh', 'success', outcome.user.id, sessionId, {});

    return pair;
  }

  /** Ends the session of a refresh token, whatever state the token is in; silent when there is none. */
  async logout(refreshToken: string): Promise<void> {
    const revoked = await this.repository.revokeByToken(
      this.hasher.hash(refreshToken),
      'logout',
      this.clock.now(),
    );
    if (revoked) {
      await this.emit('session.revoke', 'success', revoked.userId, revoked.sessionId, { reason: 'logout' });
    }
  }

  /** Ends every open session of a user (deactivation, password change). */
  async revokeAllOfUser(userId: string, reason: string): Promise<number> {
    const count = await this.repository.revokeAllOfUser(userId, reason.slice(0, 100), this.clock.now());
    if (count > 0) {
      await this.audit.emit({
        category: 'auth',
        action: 'session.revoke_all',
        outcome: 'success',
        actor: { kind: 'service', id: 'service:identity' },
        target: `user:${userId}`,
        details: { reason, sessions: count },
      });
    }

    return count;
  }

  /** An access token of the session (`sid`, and its login method as `amr`) and the refresh token. */
  private async pair(
    user: UserSnapshot,
    session: { id: string; method: string },
    refreshToken: string,
  ): Promise<TokenPair> {
    const { token, expiresIn } = await this.signer.sign({
      sub: `user:${user.id}`,
      typ: 'user',
      traits: user.traits,
      roles: user.roles,
      sid: session.id,
      method: session.method,
      lifetime: tokenContract.lifetimes.userAccess,
    });

    return { accessToken: token, refreshToken, expiresIn, tokenType: 'Bearer' };
  }

  private async refused(outcome: Extract<RefreshOutcome, { ok: false }>): Promise<void> {
    const { session, refusal, revoked } = outcome;
    if (!session) {
      await this.audit.emit({
        category: 'auth',
        action: 'token.refresh',
        outcome: 'denied',
        actor: { kind: 'anonymous', id: 'anonymous' },
        details: { reason: refusal },
      });

      return;
    }
    if (refusal === 'refresh_token_reused') {
      await this.emit('token.reuse_detected', 'denied', session.userId, session.sessionId, {});
    }
    await this.emit('token.refresh', 'denied', session.userId, session.sessionId, { reason: refusal });
    if (revoked) {
      await this.emit('session.revoke', 'success', session.userId, session.sessionId, { reason: revoked });
    }
  }

  private async emit(
    action: string,
    outcome: AuditOutcome,
    userId: string,
    sessionId: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.emit({
      category: 'auth',
      action,
      outcome,
      actor: { kind: 'user', id: `user:${userId}` },
      target: `session:${sessionId}`,
      details,
    });
  }
}
