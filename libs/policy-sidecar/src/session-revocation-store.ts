import {
  buckets,
  parsePayload,
  SessionRevocationEntry,
  sessionRevocationKey,
  userIdOfSessionRevocationKey,
} from '@vivified/contracts';
import type { TransportLogger } from '@vivified/nats-transport';
import { KvMirror, silentLogger } from '@vivified/nats-transport';
import type { NatsConnection } from 'nats';

/**
 * Where a user token stands against the `vivified_sessions` bucket: `valid`; `user_inactive` (the user is
 * deactivated); `revoked` (issued before the user's `validAfter`); `unavailable` (the bucket exists but its
 * current values have not been read yet, so a revocation may be unknown).
 */
export type UserTokenStanding = 'valid' | 'user_inactive' | 'revoked' | 'unavailable';

/** Where the sidecar checks that a user token was not revoked after it was issued. */
export interface SessionRevocationLookup {
  /** The standing of a token of `userId` issued at `issuedAt` (epoch seconds, the token's `iat`). */
  standing(userId: string, issuedAt: number): UserTokenStanding;
}

/** Options of a {@link SessionRevocationStore}. */
export interface SessionRevocationStoreOptions {
  /** @default buckets.sessions.name (`vivified_sessions`) */
  bucket?: string;
  /** @default [250, 1000] */
  retryDelayMs?: readonly [number, number];
  /** @default 5000 */
  startTimeoutMs?: number;
  logger?: TransportLogger;
}

/**
 * A live, in-memory copy of the `vivified_sessions` bucket identity writes (key `user.<userId>`, value
 * {@link SessionRevocationEntry}); a change is applied as soon as the watch delivers it (milliseconds).
 *
 * - No bucket yet (identity has never started on this NATS, so it has revoked nothing): every token is `valid`.
 * - Bucket bound, current values not yet replayed: `unavailable` (the sidecar answers `UNAVAILABLE`, retryable)
 *   rather than let a revoked token through. After a watch failure the last values read stay in force.
 * - An entry that does not validate is a revocation of every token of that user (fail closed), until identity
 *   writes a valid one.
 */
export class SessionRevocationStore implements SessionRevocationLookup {
  private readonly mirror: KvMirror<SessionRevocationEntry>;
  private bound = false;

  constructor(nc: NatsConnection, options: SessionRevocationStoreOptions = {}) {
    const log = options.logger ?? silentLogger;
    this.mirror = new KvMirror<SessionRevocationEntry>(
      nc,
      {
        bucket: options.bucket ?? buckets.sessions.name,
        what: 'session revocation',
        logger: log,
        ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      },
      {
        onWatch: () => {
          this.bound = true;
        },
        decode: (entry) => {
          const userId = userIdOfSessionRevocationKey(entry.key);
          if (userId === undefined) {
            return undefined;
          }
          let value: SessionRevocationEntry | undefined;
          try {
            value = parsePayload(SessionRevocationEntry, entry.json());
          } catch {
            value = undefined;
          }
          if (!value) {
            // fail closed: every token of the user is refused until identity writes a valid entry
            log.warn({ userId }, 'invalid session revocation entry: every token of the user is refused');

            return { active: false, validAfter: Number.MAX_SAFE_INTEGER };
          }
          log.debug({ userId, active: value.active, validAfter: value.validAfter }, 'user tokens revoked');

          return { active: value.active, validAfter: value.validAfter };
        },
      },
    );
  }

  /** Starts watching (see {@link KvMirror.start}). */
  start(): Promise<void> {
    return this.mirror.start();
  }

  /** Stops watching; the last known entries stay in force. */
  stop(): Promise<void> {
    return this.mirror.stop();
  }

  /** Whether the bucket has been read at least once. */
  get loaded(): boolean {
    return this.mirror.loaded;
  }

  standing(userId: string, issuedAt: number): UserTokenStanding {
    if (!this.mirror.loaded) {
      return this.bound ? 'unavailable' : 'valid';
    }
    const entry = this.mirror.get(sessionRevocationKey(userId));
    if (entry === undefined) {
      return 'valid';
    }
    if (!entry.active) {
      return 'user_inactive';
    }

    return issuedAt < entry.validAfter ? 'revoked' : 'valid';
  }
}
