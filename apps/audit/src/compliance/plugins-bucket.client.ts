import { Inject, Injectable } from '@nestjs/common';
import type { PluginStatusEntry } from '@vivified/contracts';
import { buckets } from '@vivified/contracts';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

/** Reads the registry's `vivified_plugins` bucket (plugin id → status entry). */
@Injectable()
export class PluginsBucketClient {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** Every plugin entry; empty when the bucket does not exist yet. */
  async entries(): Promise<PluginStatusEntry[]> {
    let kv;
    try {
      kv = await this.nc.jetstream().views.kv(buckets.plugins.name, { bindOnly: true });
    } catch {
      return [];
    }
    const out: PluginStatusEntry[] = [];
    for await (const key of await kv.keys()) {
      const entry = await kv.get(key);
      if (entry?.operation === 'PUT') {
        try {
          out.push(JSON.parse(entry.string()) as PluginStatusEntry);
        } catch {
          // a malformed entry is the registry's problem; the report lists what it can read
        }
      }
    }

    return out;
  }
}
