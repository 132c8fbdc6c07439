import { Inject, Injectable } from '@nestjs/common';
import type { PluginStatusEntry } from '@vivified/contracts';
import { buckets, ErrorCode, VivifiedError } from '@vivified/contracts';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { KV, NatsConnection } from 'nats';

/** Writes plugin entries to the `vivified_plugins` bucket every sidecar watches (the registry owns it). */
@Injectable()
export class PluginStatusClient {
  private kv: Promise<KV> | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** Writes (or replaces) a plugin's entry; `UNAVAILABLE` when the bucket cannot take it. */
  async put(entry: PluginStatusEntry): Promise<void> {
    try {
      await (await this.bucket()).put(entry.id, JSON.stringify(entry));
    } catch (error) {
      throw new VivifiedError(ErrorCode.Unavailable, 'plugin status could not be published', {
        reason: 'plugin_status_unavailable',
        cause: error,
      });
    }
  }

  /** The current entries (of one plugin, or all), by plugin id, as stored (for reconciliation). */
  async entries(only?: string): Promise<Map<string, string>> {
    const kv = await this.bucket();
    const out = new Map<string, string>();
    for await (const key of only === undefined ? await kv.keys() : [only]) {
      const value = await kv.get(key);
      if (value?.operation === 'PUT') {
        out.set(key, value.string());
      }
    }

    return out;
  }

  private bucket(): Promise<KV> {
    // the bootstrap ensured the bucket before the app started
    this.kv ??= this.nc
      .jetstream()
      .views.kv(buckets.plugins.name, { bindOnly: true })
      .catch((error: unknown) => {
        this.kv = undefined;
        throw error;
      });

    return this.kv;
  }
}
