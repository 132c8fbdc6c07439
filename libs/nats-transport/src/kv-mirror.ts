import type { KV, KvEntry, NatsConnection } from 'nats';

import type { KvWatchOptions } from './kv-watch';
import { KvWatch } from './kv-watch';

/** One change of a {@link KvMirror}'s copy. */
export interface KvMirrorChange<T> {
  key: string;
  /** The value now held; undefined when the key was removed, dropped by `decode`, or is gone after a re-read. */
  value: T | undefined;
  /** The value held before. */
  previous: T | undefined;
  /** The entry that caused it; undefined when a fresh read of the bucket no longer had the key. */
  entry: KvEntry | undefined;
}

/** How a {@link KvMirror} reads its bucket. */
export interface KvMirrorHandler<T> {
  /** The value to hold for a put; undefined holds none for the key (an entry that does not validate, say). */
  decode(entry: KvEntry): T | undefined;
  /** After each change of the copy, in revision order. */
  onChange?(change: KvMirrorChange<T>): void;
  /** A watch binds the bucket (the first one and each after a failure), before it replays the current values. */
  onWatch?(kv: KV): void;
}

/**
 * A live, in-memory copy of a KV bucket (or of the keys `options.key` selects), kept by a {@link KvWatch}: a put
 * holds what `decode` makes of it, a delete or purge removes the key, and each fresh read of the bucket (after a
 * failure, or the bucket deleted and created again) drops the keys it no longer has — so the copy never keeps a
 * key removed while nobody watched. The stores that mirror a bucket (plugin status, session revocations, a
 * service's plugin directory) hold one and add what their lookups mean.
 */
export class KvMirror<T> {
  private readonly entries = new Map<string, T>();
  private readonly watch: KvWatch;

  constructor(nc: NatsConnection, options: KvWatchOptions, handler: KvMirrorHandler<T>) {
    this.watch = new KvWatch(nc, options, {
      ...(handler.onWatch ? { onWatch: (kv: KV) => handler.onWatch?.(kv) } : {}),
      onEntry: (entry) => {
        const value = entry.operation === 'PUT' ? handler.decode(entry) : undefined;
        this.set(entry.key, value, entry, handler);
      },
      onLoaded: (seen) => {
        for (const key of [...this.entries.keys()]) {
          if (!seen.has(key)) {
            this.set(key, undefined, undefined, handler);
          }
        }
      },
    });
  }

  /** Starts watching (see {@link KvWatch.start}). */
  start(): Promise<void> {
    return this.watch.start();
  }

  /** Stops watching; the copy stays as it was last read. */
  stop(): Promise<void> {
    return this.watch.stop();
  }

  /** Whether the bucket's current values have been read at least once. */
  get loaded(): boolean {
    return this.watch.loaded;
  }

  /** The value held for a key. */
  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  /** Every value held. */
  values(): T[] {
    return [...this.entries.values()];
  }

  private set(
    key: string,
    value: T | undefined,
    entry: KvEntry | undefined,
    handler: KvMirrorHandler<T>,
  ): void {
    const previous = this.entries.get(key);
    if (value === undefined) {
      this.entries.delete(key);
    } else {
      this.entries.set(key, value);
    }
    handler.onChange?.({ key, value, previous, entry });
  }
}
