import {
  buckets,
  parsePayload,
  SessionRevocationEntry,
  sessionRevocationKey,
  userIdOfSessionRevocationKey,
} from '@vivified/contracts';
import type { TransportLogger } from '@vivified/nats-transport';
import { KvWatch, silentLogger } from '@vivified/nats-transport';
import type { KvEntry, NatsConnection } from 'nats';

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
  private readonly entries = new Map<string, SessionRevocationEntry>();
  private readonly watch: KvWatch;
  private readonly log: TransportLogger;
  private bound = false;

  constructor(nc: NatsConnection, options: SessionRevocationStoreOptions = {}) {
    this.log = options.logger ?? silentLogger;
    this.watch = new KvWatch(
      nc,
      {
        bucket: options.bucket ?? buckets.sessions.name,
        what: 'session revocation',
        logger: this.log,
        ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      },
      {
        onWatch: () => {
          this.bound = true;
        },
        onEntry: (entry) => this.apply(entry),
        onLoaded: (seen) => {
          for (const key of this.entries.keys()) {
            if (!seen.has(key)) {
              this.entries.delete(key);
            }
          }
        },
      },
    );
  }

  /** Starts watching (see {@link KvWatch.start}). */
  start(): Promise<void> {
    return this.watch.start();
  }

  /** Stops watching; the last known entries stay in force. */
  stop(): Promise<void> {
    return this.watch.stop();
  }

  /** Whether the bucket has been read at least once. */
  get loaded(): boolean {
    return this.watch.loaded;
  }

  standing(userId: string, issuedAt: number): UserTokenStanding {
    if (!this.watch.loaded) {
      return this.bound ? 'unavailable' : 'valid';
    }
    const entry = this.entries.get(sessionRevocationKey(userId));
    if (entry === undefined) {
      return 'valid';
    }
    if (!entry.active) {
      return 'user_inactive';
    }

    return issuedAt < entry.validAfter ? 'revoked' : 'valid';
  }

  private apply(entry: KvEntry): void {
    const userId = userIdOfSessionRevocationKey(entry.key);
    if (userId === undefined) {
      return;
    }
    if (entry.operation !== 'PUT') {
      this.entries.delete(entry.key);

      return;
    }
    let value: SessionRevocationEntry | undefined;
    try {
      value = parsePayload(SessionRevocationEntry, entry.json());
    } catch {
      value = undefined;
    }
    if (!value) {
      // fail closed: every token of the user is refused until identity writes a valid entry
      this.entries.set(entry.key, { active: false, validAfter: Number.MAX_SAFE_INTEGER });
      this.log.warn({ userId }, 'invalid session revocation entry: every token of the user is refused');

      return;
    }
    this.entries.set(entry.key, { active: value.active, validAfter: value.validAfter });
    this.log.debug({ userId, active: value.active, validAfter: value.validAfter }, 'user tokens revoked');
  }
}
