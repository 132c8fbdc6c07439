import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { buckets, PluginStatusEntry, validatePayload } from '@vivified/contracts';
import { KvWatch } from '@vivified/nats-transport';
import { NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { ServiceLogger } from '@vivified/service-kit';
import type { KvEntry, NatsConnection } from 'nats';

/** A change of a plugin's entry: `entry` undefined when the key was deleted or the entry does not validate. */
export interface PluginChange {
  pluginId: string;
  entry: PluginStatusEntry | undefined;
  previous: PluginStatusEntry | undefined;
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
  private readonly entries = new Map<string, PluginStatusEntry>();
  private readonly listeners: PluginChangeListener[] = [];
  private watch: KvWatch | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {}

  /** The plugin's current entry (any status). */
  get(pluginId: string): PluginStatusEntry | undefined {
    return this.entries.get(pluginId);
  }

  /** Every known entry. */
  all(): PluginStatusEntry[] {
    return [...this.entries.values()];
  }

  /** Registers a change listener (called for the initial values too). */
  onChange(listener: PluginChangeListener): void {
    this.listeners.push(listener);
  }

  /** Starts following the bucket (creates it when the registry has not yet: the registry owns its settings). */
  start(): Promise<void> {
    return (this.starting ??= (async () => {
      await this.nc.jetstream().views.kv(buckets.plugins.name, { history: buckets.plugins.history });
      this.watch = new KvWatch(
        this.nc,
        { bucket: buckets.plugins.name, what: 'plugin directory', logger: this.log },
        { onEntry: (entry) => this.apply(entry) },
      );
      await this.watch.start();
    })());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.watch?.stop();
  }

  private apply(kvEntry: KvEntry): void {
    const pluginId = kvEntry.key;
    const previous = this.entries.get(pluginId);
    let entry: PluginStatusEntry | undefined;
    if (kvEntry.operation === 'PUT') {
      let raw: unknown;
      try {
        raw = kvEntry.json();
      } catch {
        raw = undefined;
      }
      const result = validatePayload(PluginStatusEntry, raw);
      entry = result.ok && result.value.id === pluginId ? result.value : undefined;
      if (!entry) {
        this.log.warn({ pluginId }, 'ignoring an invalid plugin status entry: no deliveries to it');
      }
    }
    if (entry) {
      this.entries.set(pluginId, entry);
    } else {
      this.entries.delete(pluginId);
    }
    for (const listener of this.listeners) {
      try {
        listener({ pluginId, entry, previous });
      } catch (error) {
        this.log.error({ err: error, pluginId }, 'plugin change listener failed');
      }
    }
  }
}
