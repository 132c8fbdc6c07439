import { dynamicSubjects } from '@vivified/contracts';
import type {
  JetStreamManager,
  KV,
  KvEntry,
  NatsConnection,
  QueuedIterator,
  Status,
  StreamInfo,
  Subscription,
} from 'nats';
import { Events, KvWatchInclude, NatsError } from 'nats';

import type { TransportLogger } from './context';
import { silentLogger } from './context';

/** Options of a {@link KvWatch}. */
export interface KvWatchOptions {
  /** The bucket; it is bound, never created (its owner creates it, or the caller did before `start()`). */
  bucket: string;
  /**
   * Keys to watch (NATS wildcards allowed).
   * @default '>'
   */
  key?: string;
  /**
   * Only changes made after each (re)watch starts, no replay of the current values; `onLoaded` then reports an
   * empty set at once.
   * @default false
   */
  updatesOnly?: boolean;
  /**
   * First and longest pause between attempts to bind the bucket or to watch again, in milliseconds. The longest
   * pause bounds how late a bucket created after the start is seen.
   * @default [250, 1000]
   */
  retryDelayMs?: readonly [number, number];
  /**
   * How long `start()` waits for the first load before it lets the service go on (the watch continues).
   * @default 5000
   */
  startTimeoutMs?: number;
  /** Named in log lines (`plugin status`, `policy bundle`, `signing key`). */
  what: string;
  logger?: TransportLogger;
}

/** What a {@link KvWatch} reports. */
export interface KvWatchHandler {
  /**
   * A watch begins (the first one and each one after a failure), before it replays the current values: `kv` is
   * the bound bucket, for reads of its own.
   */
  onWatch?(kv: KV): void;
  /** Every put, delete and purge, in revision order, the current values first after each (re)watch. */
  onEntry(entry: KvEntry): void;
  /** After the current values have been replayed; `seen` holds the keys that exist now. */
  onLoaded?(seen: ReadonlySet<string>): void;
}

const STREAM_NOT_FOUND = 10059;

function isStreamMissing(error: unknown): boolean {
  return error instanceof NatsError && error.api_error?.err_code === STREAM_NOT_FOUND;
}

class BucketMissingError extends Error {
  constructor(bucket: string) {
    super(`bucket ${bucket} does not exist yet`);
  }
}

/**
 * Keeps a watch on a KV bucket: waits for the bucket to exist, replays the current values, then follows every
 * change (a change reaches the handler within milliseconds), and watches again after any failure with a growing
 * pause, and at once after the connection comes back (a restarted server loses the watch's consumer; a new watch
 * replays the values instead of waiting for nats.js to notice the missing heartbeats). The one watch loop of the platform: the JWKS key store,
 * the policy sidecar's plugin status and bundle stores, and the services' own bucket watchers use it.
 */
export class KvWatch {
  private readonly key: string;
  private readonly retryDelayMs: readonly [number, number];
  private readonly startTimeoutMs: number;
  private readonly log: TransportLogger;
  private watcher: QueuedIterator<KvEntry> | undefined;
  private loop: Promise<void> | undefined;
  private statusFeed: (AsyncIterable<Status> & { stop?: () => void }) | undefined;
  private advisories: Subscription | undefined;
  /** When the bucket the current watch follows was created (its stream's `created`): another one is a new bucket. */
  private boundCreated: string | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loadedOnce = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: KvWatchOptions,
    private readonly handler: KvWatchHandler,
  ) {
    this.key = options.key ?? '>';
    this.retryDelayMs = options.retryDelayMs ?? [250, 1_000];
    this.startTimeoutMs = options.startTimeoutMs ?? 5_000;
    this.log = options.logger ?? silentLogger;
  }

  /** Whether the current values have been read at least once. */
  get loaded(): boolean {
    return this.loadedOnce;
  }

  /**
   * Starts watching. Resolves once the current values are loaded, or as soon as the bucket turns out not to
   * exist yet, or after `startTimeoutMs`; the watch keeps trying in the background.
   */
  async start(): Promise<void> {
    if (this.loop) {
      return;
    }
    let settle!: () => void;
    const firstAttempt = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.loop = this.run(settle);
    this.followConnection();
    this.followRecreation();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      firstAttempt,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.startTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Stops watching. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.statusFeed?.stop?.();
    this.advisories?.unsubscribe();
    this.watcher?.stop();
    this.wake?.();
    await this.loop;
  }

  private async run(settle: () => void): Promise<void> {
    const { bucket, what } = this.options;
    let delay = this.retryDelayMs[0];
    let reported = false;
    while (!this.stopped) {
      try {
        const kv = await this.bind();
        await this.watch(kv, settle);
        delay = this.retryDelayMs[0];
      } catch (error) {
        settle();
        if (this.stopped) {
          break;
        }
        if (error instanceof BucketMissingError) {
          if (!reported) {
            this.log.info({ bucket }, `waiting for the ${what} bucket`);
            reported = true;
          }
        } else {
          this.log.warn({ err: error, bucket }, `${what} watch failed, retrying`);
        }
      }
      if (!this.stopped) {
        await this.pause(delay);
        delay = Math.min(delay * 2, this.retryDelayMs[1]);
      }
    }
  }

  /** Ends the current watch when the connection comes back: the loop then watches again and replays. */
  private followConnection(): void {
    const feed = this.nc.status() as AsyncIterable<Status> & { stop?: () => void };
    this.statusFeed = feed;
    void (async () => {
      for await (const status of feed) {
        if (this.stopped) {
          break;
        }
        if (status.type === Events.Reconnect) {
          this.watcher?.stop();
        }
      }
    })().catch((error: unknown) => this.log.warn({ err: error }, 'connection status feed failed'));
  }

  /**
   * Ends the current watch when the bucket is deleted or created: nats.js would resume its ordered consumer after
   * the old bucket's last revision and miss the first entries of a bucket created again under the same name
   * (revisions start over). The loop then waits for the bucket and replays it from its first revision. Both
   * advisories are followed because nats-server does not send every deletion advisory (seen with 2.9 when a bucket
   * is deleted and created again at once); the creation one comes when the new bucket exists.
   */
  private followRecreation(): void {
    const { bucket, what } = this.options;
    this.advisories = this.nc.subscribe(dynamicSubjects.streamAdvisories(`KV_${bucket}`), {
      callback: (error, msg) => {
        if (error) {
          this.log.warn({ err: error, bucket }, 'bucket advisories unavailable');

          return;
        }
        const action = msg.subject.split('.')[4];
        if (action === 'DELETED') {
          this.log.warn({ bucket }, `${what} bucket deleted, watching it again`);
          this.watcher?.stop();
        } else if (action === 'CREATED') {
          // also sent when an owner's idempotent create meets the bucket as it is: only a new bucket matters
          void this.createdAnew().then(
            (anew) => {
              if (anew) {
                this.log.warn({ bucket }, `${what} bucket created again, watching it again`);
                this.watcher?.stop();
              }
              this.wake?.();
            },
            (failure: unknown) => this.log.warn({ err: failure, bucket }, 'bucket check failed'),
          );
        }
      },
    });
  }

  /** Whether the bucket now is another one than the current watch follows (created after it). */
  private async createdAnew(): Promise<boolean> {
    if (this.boundCreated === undefined) {
      return false; // not watching yet: the loop binds whatever exists (woken at once)
    }
    const info = await this.streamInfo(await this.nc.jetstreamManager());

    return info?.created !== this.boundCreated;
  }

  /** The bucket's stream, or undefined while there is none. */
  private async streamInfo(jsm: JetStreamManager): Promise<StreamInfo | undefined> {
    try {
      return await jsm.streams.info(`KV_${this.options.bucket}`);
    } catch (error) {
      if (isStreamMissing(error)) {
        return undefined;
      }
      throw error;
    }
  }

  private async bind(): Promise<KV> {
    const { bucket } = this.options;
    const info = await this.streamInfo(await this.nc.jetstreamManager());
    if (!info) {
      throw new BucketMissingError(bucket);
    }
    this.boundCreated = info.created;
    try {
      return await this.nc
        .jetstream()
        .views.kv(bucket, { bindOnly: true, allow_direct: info.config.allow_direct });
    } catch (error) {
      // deleted between the two calls
      throw isStreamMissing(error) ? new BucketMissingError(bucket) : error;
    }
  }

  private async watch(kv: KV, settle: () => void): Promise<void> {
    // keys put in the replay of current values: anything else held from an earlier watch is gone
    const seen = new Set<string>();
    let done = false;
    let iterating = false;
    let early = false;
    let replayLength: number | undefined;
    let processed = 0;
    const finish = () => {
      if (!done) {
        done = true;
        this.loadedOnce = true;
        this.call('loaded handler', undefined, () => this.handler.onLoaded?.(seen));
        settle();
      }
    };
    this.call('watch handler', undefined, () => this.handler.onWatch?.(kv));
    // nats.js calls this either in order after the last replayed entry (while we iterate), or at once inside
    // kv.watch() when the replay was already queued; then the replay is what the iterator has received so far
    const watcher = await kv.watch({
      key: this.key,
      ...(this.options.updatesOnly ? { include: KvWatchInclude.UpdatesOnly } : {}),
      initializedFn: () => {
        if (iterating) {
          finish();
        } else {
          early = true;
        }
      },
    });
    this.watcher = watcher;
    if (this.stopped) {
      watcher.stop();
    }
    if (early) {
      replayLength = watcher.getReceived();
      if (replayLength === 0) {
        finish();
      }
    }
    iterating = true;
    for await (const entry of watcher) {
      processed += 1;
      if (!done && entry.operation === 'PUT') {
        seen.add(entry.key);
      }
      this.call('bucket entry handler', entry.key, () => this.handler.onEntry(entry));
      if (replayLength !== undefined && processed >= replayLength) {
        finish();
      }
    }
  }

  /** Runs a handler callback; a throwing handler is logged and never stops the watch. */
  private call(what: string, key: string | undefined, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error({ err: error, bucket: this.options.bucket, key }, `${what} failed`);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
