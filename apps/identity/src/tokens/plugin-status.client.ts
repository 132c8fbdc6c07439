import { Inject, Injectable } from '@nestjs/common';
import { buckets, PluginStatusEntry, validatePayload } from '@vivified/contracts';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { KV, NatsConnection } from 'nats';

/** What the registry says about a plugin: its entry, nothing, or something that is not a valid entry. */
export type PluginStatusLookup =
  | { found: true; entry: PluginStatusEntry }
  | { found: false; reason: 'unknown' | 'invalid' | 'unavailable' };

/** Reads plugin entries of the registry's `vivified_plugins` bucket. */
@Injectable()
export class PluginStatusClient {
  private kv: Promise<KV> | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async get(pluginId: string): Promise<PluginStatusLookup> {
    let value: Awaited<ReturnType<KV['get']>>;
    try {
      value = await (await this.bucket()).get(pluginId);
    } catch {
      // the registry has not created its bucket yet, or JetStream is away: no plugin counts as active
      return { found: false, reason: 'unavailable' };
    }
    if (!value || value.operation !== 'PUT') {
      return { found: false, reason: 'unknown' };
    }
    let plain: unknown;
    try {
      plain = value.json<unknown>();
    } catch {
      return { found: false, reason: 'invalid' };
    }
    const parsed = validatePayload(PluginStatusEntry, plain);

    return parsed.ok && parsed.value.id === pluginId
      ? { found: true, entry: parsed.value }
      : { found: false, reason: 'invalid' };
  }

  private bucket(): Promise<KV> {
    // bind only (no stream lookup): the registry owns this bucket and creates it, maybe after we start
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
