import { buckets, parsePayload, PluginStatusEntry } from '@vivified/contracts';
import type { TransportLogger } from '@vivified/nats-transport';
import { KvMirror, silentLogger } from '@vivified/nats-transport';
import type { NatsConnection } from 'nats';

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
  private readonly mirror: KvMirror<PluginStatusEntry>;

  constructor(nc: NatsConnection, options: PluginStatusStoreOptions = {}) {
    const log = options.logger ?? silentLogger;
    this.mirror = new KvMirror<PluginStatusEntry>(
      nc,
      {
        bucket: options.bucket ?? buckets.plugins.name,
        what: 'plugin status',
        logger: log,
        ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      },
      {
        decode: (entry) => {
          let value: PluginStatusEntry | undefined;
          try {
            value = parsePayload(PluginStatusEntry, entry.json());
          } catch {
            value = undefined;
          }
          if (!value || value.id !== entry.key) {
            log.warn(
              { pluginId: entry.key },
              'ignoring an invalid plugin status entry: the plugin is not active',
            );

            return undefined;
          }

          return value;
        },
        onChange: ({ key, value, previous }) => {
          if (value === undefined && previous !== undefined) {
            log.info({ pluginId: key, previous: previous.status }, 'plugin status removed');
          } else if (value !== undefined && previous?.status !== value.status) {
            log.info(
              { pluginId: key, status: value.status, previous: previous?.status },
              'plugin status changed',
            );
          }
        },
      },
    );
  }

  /** Starts watching (see {@link KvMirror.start}). */
  start(): Promise<void> {
    return this.mirror.start();
  }

  /** Stops watching; the last known entries stay readable. */
  stop(): Promise<void> {
    return this.mirror.stop();
  }

  /** Whether the bucket has been read at least once. */
  get loaded(): boolean {
    return this.mirror.loaded;
  }

  get(pluginId: string): PluginStatusEntry | undefined {
    return this.mirror.get(pluginId);
  }
}
