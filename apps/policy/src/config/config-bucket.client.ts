import { Inject, Injectable } from '@nestjs/common';
import type { PlatformConfigEntry } from '@vivified/contracts';
import { buckets, platformConfigKey } from '@vivified/contracts';
import { ensureBucket } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { KV, NatsConnection } from 'nats';

/** What the bucket holds under the platform key. */
export interface ConfigBucketEntry {
  /** The entry's revision, for a compare-and-swap write. */
  readonly revision: number;
  /** The published entry; undefined when deleted or not JSON. */
  readonly value: PlatformConfigEntry | undefined;
}

/** Thrown by {@link ConfigBucketClient.write} when another writer changed the key since it was read. */
export class ConfigWriteConflict extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the published config changed since it was read', options);
    this.name = 'ConfigWriteConflict';
  }
}

/** JetStream's "wrong last sequence": the compare-and-swap lost. */
const WRONG_LAST_SEQUENCE = 10071;

function parse(text: string): PlatformConfigEntry | undefined {
  try {
    const value = JSON.parse(text) as Partial<PlatformConfigEntry> | null;

    return typeof value?.version === 'number' && typeof value.values === 'object' && value.values !== null
      ? (value as PlatformConfigEntry)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `vivified_config` bucket's platform key: read and compare-and-swap write. */
@Injectable()
export class ConfigBucketClient {
  private kv: Promise<KV> | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** The current entry; undefined when the key was never written. */
  async read(): Promise<ConfigBucketEntry | undefined> {
    const entry = await (await this.bucket()).get(platformConfigKey);
    if (!entry) {
      return undefined;
    }

    return { revision: entry.revision, value: entry.operation === 'PUT' ? parse(entry.string()) : undefined };
  }

  /**
   * Writes `value` if the key is still at `after` (a {@link read} entry; undefined when it never existed).
   * @throws ConfigWriteConflict when another writer came first.
   */
  async write(value: PlatformConfigEntry, after: ConfigBucketEntry | undefined): Promise<number> {
    const kv = await this.bucket();
    const data = JSON.stringify(value);
    try {
      return after === undefined
        ? await kv.create(platformConfigKey, data)
        : await kv.update(platformConfigKey, data, after.revision);
    } catch (error) {
      const code = (error as { api_error?: { err_code?: number } }).api_error?.err_code;
      if (code === WRONG_LAST_SEQUENCE || /wrong last sequence|key exists/i.test(String(error))) {
        throw new ConfigWriteConflict({ cause: error });
      }
      throw error;
    }
  }

  private bucket(): Promise<KV> {
    // policy owns the bucket and the bootstrap ensured it; binding again is idempotent
    this.kv ??= ensureBucket(this.nc, buckets.config).catch((error: unknown) => {
      this.kv = undefined;
      throw error;
    });

    return this.kv;
  }
}
