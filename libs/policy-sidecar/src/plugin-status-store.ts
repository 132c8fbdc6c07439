import { buckets, parsePayload, PluginStatusEntry } from '@vivified/contracts';
import type { TransportLogger } from '@vivified/nats-transport';
import { KvWatch, silentLogger } from '@vivified/nats-transport';
import type { KvEntry, NatsConnection } from 'nats';

/** Where the sidecar reads a plugin's live status and approved traits. */
export interface PluginStatusLookup {
  /** The plugin's current entry; undefined when the registry has none (not active). */
  get(pluginId: string): PluginStatusEntry | undefined;
}

/** Options of a {@link PluginStatusStore}. */
export interface PluginStatusStoreOptions {
  /** @default buckets.plugins.name (`vivified_plugins`) */
  bucket?: string;
  /** @default [250, 1000] */
  retryDelayMs?: readonly [number, number];
  /** @default 5000 */
  startTimeoutMs?: number;
  logger?: TransportLogger;
}

/**
 * A live, in-memory copy of the `vivified_plugins` bucket the registry writes (key = plugin id, value =
 * {@link PluginStatusEntry}). A change is applied as soon as the watch delivers it (milliseconds). While the
 * bucket does not exist, or for a key it does not hold, a plugin is unknown, which the sidecar treats as not
 * active. An entry that does not validate, or whose `id` is not its key, is dropped (the plugin is not active).
 */
export class PluginStatusStore implements PluginStatusLookup {
  private readonly entries = new Map<string, PluginStatusEntry>();
  private readonly watch: KvWatch;
  private readonly log: TransportLogger;

  constructor(nc: NatsConnection, options: PluginStatusStoreOptions = {}) {
    this.log = options.logger ?? silentLogger;
    this.watch = new KvWatch(
      nc,
      {
        bucket: options.bucket ?? buckets.plugins.name,
        what: 'plugin status',
        logger: this.log,
        ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      },
      {
        onEntry: (entry) => this.apply(entry),
        onLoaded: (seen) => {
          for (const id of this.entries.keys()) {
            if (!seen.has(id)) {
              this.entries.delete(id);
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

  /** Stops watching; the last known entries stay readable. */
  stop(): Promise<void> {
    return this.watch.stop();
  }

  /** Whether the bucket has been read at least once. */
  get loaded(): boolean {
    return this.watch.loaded;
  }

  get(pluginId: string): PluginStatusEntry | undefined {
    return this.entries.get(pluginId);
  }

  private apply(entry: KvEntry): void {
    const id = entry.key;
    const previous = this.entries.get(id)?.status;
    if (entry.operation !== 'PUT') {
      this.entries.delete(id);
      this.log.info({ pluginId: id, previous }, 'plugin status removed');

      return;
    }
    let value: PluginStatusEntry | undefined;
    try {
      value = parsePayload(PluginStatusEntry, entry.json());
    } catch {
      value = undefined;
    }
    if (!value || value.id !== id) {
      this.entries.delete(id);
      this.log.warn({ pluginId: id }, 'ignoring an invalid plugin status entry: the plugin is not active');

      return;
    }
    this.entries.set(id, value);
    if (previous !== value.status) {
      this.log.info({ pluginId: id, status: value.status, previous }, 'plugin status changed');
    }
  }
}
