import { Inject, Injectable } from '@nestjs/common';
import type { SessionRevocationEntry } from '@vivified/contracts';
import { buckets, ErrorCode, sessionRevocationKey, VivifiedError } from '@vivified/contracts';
import { ensureBucket } from '@vivified/nats-transport';
import type { ServiceLogger } from '@vivified/service-kit';
import { NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { KV, NatsConnection } from 'nats';

import type { AccountsClock } from '../accounts.clock';
import { ACCOUNTS_CLOCK } from '../accounts.clock';

/** Pauses before the second and third attempt of a write, in milliseconds. */
const RETRY_DELAYS_MS = [200, 800] as const;

/** The answer when a revocation cannot be published: the action it belongs to did not (fully) happen. */
export function revocationUnavailable(cause?: unknown): VivifiedError {
  return new VivifiedError(ErrorCode.Unavailable, 'the session revocation could not be published', {
    reason: 'revocation_unavailable',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Publishes a user's access-token revocations to the `vivified_sessions` bucket (key `user.<userId>`, value
 * {@link SessionRevocationEntry}), which every service's policy sidecar follows: refresh tokens end in PostgreSQL,
 * access tokens end here, at once, at every service (docs/identity-tokens.md "Revocation").
 *
 * `iat` counts whole seconds, so `validAfter` is the second after the current one: every token issued up to now
 * (including one issued earlier in this very second) is refused. {@link revokeTokens} then waits for that second
 * to begin (under a second) before it returns, so every token issued after the change — the login right after
 * it, the tokens a required password change answers — has `iat >= validAfter` and works.
 *
 * A write is tried three times (0, 200, 800 ms pauses) and then fails with `UNAVAILABLE`
 * `revocation_unavailable`; the caller lets the error answer the request, so a change whose revocation could not
 * be published never reports success.
 */
@Injectable()
export class SessionRevocations {
  private kv: Promise<KV> | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(ACCOUNTS_CLOCK) private readonly clock: AccountsClock,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  /**
   * Ends every access token of the user issued up to now (password change or reset, MFA reset, role change) and
   * waits for the next second, from which new tokens are valid. Called after the change (a token refreshed from
   * an old session until then is refused too). `active` is the user's active flag as stored, written again so a
   * revocation never reactivates anyone.
   */
  async revokeTokens(userId: string, active: boolean, reason: string): Promise<void> {
    const validAfter = this.nextSecond();
    await this.write(userId, { active, validAfter }, reason);
    await this.untilValid(validAfter);
  }

  /**
   * The same revocation, without the wait, before a change: when it cannot be published the change is not made
   * (the caller lets the error answer); {@link revokeTokens} follows the change.
   */
  async revokeTokensBeforeChange(userId: string, active: boolean, reason: string): Promise<void> {
    await this.write(userId, { active, validAfter: this.nextSecond() }, reason);
  }

  /** Refuses every token of the user, whenever issued, until {@link reactivate}: call before deactivating. */
  async deactivate(userId: string): Promise<void> {
    await this.write(userId, { active: false, validAfter: this.nextSecond() }, 'deactivated');
  }

  /**
   * Lifts a deactivation (the user's tokens from before it stay revoked: `validAfter` is kept, and waited for when
   * it has not begun yet). Does nothing when the entry is absent or already active, so a retried reactivation
   * changes nothing.
   */
  async reactivate(userId: string): Promise<void> {
    const current = await this.attempt(userId, 'reactivated', async (kv) => {
      const entry = await kv.get(sessionRevocationKey(userId));

      return entry?.operation === 'PUT' ? entry.json<Partial<SessionRevocationEntry>>() : undefined;
    });
    if (current?.active !== false) {
      return;
    }
    const validAfter =
      typeof current.validAfter === 'number' &&
      Number.isInteger(current.validAfter) &&
      current.validAfter >= 0
        ? current.validAfter
        : this.nextSecond();
    await this.write(userId, { active: true, validAfter }, 'reactivated');
    await this.untilValid(validAfter);
  }

  private async write(userId: string, entry: SessionRevocationEntry, reason: string): Promise<void> {
    await this.attempt(userId, reason, async (kv) => {
      await kv.put(sessionRevocationKey(userId), JSON.stringify(entry));
    });
    this.logger.info(
      { userId, reason, active: entry.active, validAfter: entry.validAfter },
      'user tokens revoked',
    );
  }

  private async attempt<T>(userId: string, reason: string, run: (kv: KV) => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt += 1) {
      if (attempt > 0) {
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt - 1]));
      }
      try {
        return await run(await this.bucket());
      } catch (error) {
        last = error;
        this.logger.warn(
          { err: error, userId, reason, attempt: attempt + 1 },
          'session revocation write failed',
        );
      }
    }
    this.logger.error({ err: last, userId, reason }, 'session revocation not published');
    throw revocationUnavailable(last);
  }

  private bucket(): Promise<KV> {
    // identity owns the bucket and the bootstrap ensured it; binding again is idempotent
    this.kv ??= ensureBucket(this.nc, buckets.sessions).catch((error: unknown) => {
      this.kv = undefined;
      throw error;
    });

    return this.kv;
  }

  /** Waits for the second `validAfter` to begin (under a second), so the tokens issued next are valid. */
  private async untilValid(validAfter: number): Promise<void> {
    const wait = validAfter * 1000 - this.clock.now();
    if (wait > 0) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** The first second whose tokens are valid: the one after the current one. */
  private nextSecond(): number {
    return Math.floor(this.clock.now() / 1000) + 1;
  }
}
