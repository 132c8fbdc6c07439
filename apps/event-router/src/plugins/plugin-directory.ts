import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { buckets, PluginStatusEntry, validatePayload } from '@vivified/contracts';
import { KvMirror } from '@vivified/nats-transport';
import { NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { ServiceLogger } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

/** A change of a plugin's entry: `entry` undefined when the key was deleted or the entry does not validate. */
export interface PluginChange {
  pluginId: string;
  entry: PluginStatusEntry | undefined;
  previous: PluginStatusEntry | undefined;
  /**
   * The key is missing from a fresh read of the bucket (the bucket lost and created again, say) without a delete
   * having been seen: the plugin is unknown for now, not removed by the registry.
   */
  vanished?: true;
}

/** Listener of plugin changes. */
export type PluginChangeListener = (change: PluginChange) => void;

/**
 * The event-router's live copy of `vivified_plugins` (the registry's entries): the delivery policy reads a target's
 * live status and traits here, and the lifecycle (subscribe on activation, pause on disable, delete on revoke)
 * listens to its changes.
 */
@Injectable()
export class PluginDirectory implements OnApplicationShutdown {
  private readonly listeners: PluginChangeListener[] = [];
  private readonly mirror: KvMirror<PluginStatusEntry>;
  private starting: Promise<void> | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {
    this.mirror = new KvMirror<PluginStatusEntry>(
      nc,
      { bucket: buckets.plugins.name, what: 'plugin directory', logger: log },
      {
        decode: (kvEntry) => {
          let raw: unknown;
          try {
            raw = kvEntry.json();
          } catch {
            raw = undefined;
          }
          const result = validatePayload(PluginStatusEntry, raw);
          if (result.ok && result.value.id === kvEntry.key) {
            return result.value;
          }
          this.log.warn(
            { pluginId: kvEntry.key },
            'ignoring an invalid plugin status entry: no deliveries to it',
          );

          return undefined;
        },
        onChange: ({ key, value, previous, entry }) =>
          this.notify({
            pluginId: key,
            entry: value,
            previous,
            ...(entry === undefined ? { vanished: true } : {}),
          }),
      },
    );
  }

  /** The plugin's current entry (any status). */
  get(pluginId: string): PluginStatusEntry | undefined {
    return this.mirror.get(pluginId);
  }

  /** Every known entry. */
  all(): PluginStatusEntry[] {
    return this.mirror.values();
  }

  /** Registers a change listener (called for the initial values too). */
  onChange(listener: PluginChangeListener): void {
    this.listeners.push(listener);
  }

  /** Starts following the bucket (creates it when the registry has not yet: the registry owns its settings). */
  start(): Promise<void> {
    return (this.starting ??= (async () => {
      await this.nc.jetstream().views.kv(buckets.plugins.name, { history: buckets.plugins.history });
      await this.mirror.start();
    })());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.mirror.stop();
  }

  private notify(change: PluginChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.log.error({ err: error, pluginId: change.pluginId }, 'plugin change listener failed');
      }
    }
  }
}
