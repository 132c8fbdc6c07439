import { Inject, Injectable } from '@nestjs/common';
import type { JwksEntry } from '@vivified/contracts';
import { buckets } from '@vivified/contracts';
import { ensureBucket } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { KV, NatsConnection } from 'nats';

/** The `vivified_jwks` bucket: key = kid, value = {@link JwksEntry} JSON (ADR-0005). */
@Injectable()
export class JwksBucketClient {
  private kv: Promise<KV> | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** Writes an entry unless the bucket already holds exactly it (watchers are told only of changes). */
  async publish(entry: JwksEntry): Promise<void> {
    const kv = await this.bucket();
    const value = JSON.stringify(entry);
    const current = await kv.get(entry.kid);
    if (current?.operation !== 'PUT' || current.string() !== value) {
      await kv.put(entry.kid, value);
    }
  }

  async delete(kid: string): Promise<void> {
    await (await this.bucket()).delete(kid);
  }

  /** Whether the bucket holds a value for this kid now (a deleted one does not count). */
  async has(kid: string): Promise<boolean> {
    const entry = await (await this.bucket()).get(kid);

    return entry?.operation === 'PUT';
  }

  private bucket(): Promise<KV> {
    // identity owns the bucket and the bootstrap ensured it; binding again is idempotent
    this.kv ??= ensureBucket(this.nc, buckets.jwks).catch((error: unknown) => {
      this.kv = undefined;
      throw error;
    });

    return this.kv;
  }
}
