import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { PluginStatusEntry } from '@vivified/contracts';
import { PluginStatusStore } from '@vivified/policy-sidecar';
import type { ServiceLogger } from '@vivified/service-kit';
import { NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

/**
 * The lanes' live copy of the `vivified_plugins` bucket: targets, their operations and approved domains. The
 * sidecar keeps its own copy for callers; both follow the same bucket within milliseconds.
 */
@Injectable()
export class PluginDirectory implements OnModuleInit, OnModuleDestroy {
  private readonly store: PluginStatusStore;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection, @Inject(SERVICE_LOGGER) logger: ServiceLogger) {
    this.store = new PluginStatusStore(nc, { logger });
  }

  async onModuleInit(): Promise<void> {
    await this.store.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.store.stop();
  }

  /** The plugin's entry, or undefined. */
  get(pluginId: string): PluginStatusEntry | undefined {
    return this.store.get(pluginId);
  }

  /** The plugin's entry when it is active. */
  active(pluginId: string): PluginStatusEntry | undefined {
    const entry = this.store.get(pluginId);

    return entry?.status === 'active' ? entry : undefined;
  }
}
