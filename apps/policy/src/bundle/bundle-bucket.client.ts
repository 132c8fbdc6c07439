import { Inject, Injectable } from '@nestjs/common';
import { buckets, policyBundleKey } from '@vivified/contracts';
import { ensureBucket, KvWatch } from '@vivified/nats-transport';
import type { TransportLogger } from '@vivified/nats-transport';
import { NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { KV, KvEntry, NatsConnection } from 'nats';

/** What the bucket holds under the bundle key. */
export interface BundleEntry {
  /** The entry's revision, for a compare-and-swap write. */
  readonly revision: number;
  /** False when the key was deleted or purged. */
  readonly present: boolean;
  /** The parsed JSON value; the raw text when it is not JSON; undefined when not present. */
  readonly value: unknown;
}

/** Thrown by {@link BundleBucketClient.write} when another writer changed the key since it was read. */
export class BundleWriteConflict extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the policy bundle changed since it was read', options);
    this.name = 'BundleWriteConflict';
  }
}

/** JetStream's "wrong last sequence": the compare-and-swap lost. */
const WRONG_LAST_SEQUENCE = 10071;

function toEntry(entry: KvEntry): BundleEntry {
  if (entry.operation !== 'PUT') {
    return { revision: entry.revision, present: false, value: undefined };
  }
  const text = entry.string();
  let value: unknown = text;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    // kept as text: the verifier refuses it and the alarm names it
  }

  return { revision: entry.revision, present: true, value };
}

/** The `vivified_policy` bucket's bundle key (ADR-0006): read, compare-and-swap write, watch. */
@Injectable()
export class BundleBucketClient {
  private kv: Promise<KV> | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_LOGGER) private readonly logger: TransportLogger,
  ) {}

  /** The current entry; undefined when the key was never written. */
  async read(): Promise<BundleEntry | undefined> {
    const entry = await (await this.bucket()).get(policyBundleKey);

    return entry ? toEntry(entry) : undefined;
  }

  /**
   * Writes `value` if the key is still at `after` (a {@link read} entry; undefined when it never existed).
   * @throws BundleWriteConflict when another writer came first.
   */
  async write(value: object, after: BundleEntry | undefined): Promise<number> {
    const kv = await this.bucket();
    const data = JSON.stringify(value);
    try {
      return after === undefined
        ? await kv.create(policyBundleKey, data)
        : await kv.update(policyBundleKey, data, after.revision);
    } catch (error) {
      const code = (error as { api_error?: { err_code?: number } }).api_error?.err_code;
      if (code === WRONG_LAST_SEQUENCE || /wrong last sequence|key exists/i.test(String(error))) {
        throw new BundleWriteConflict({ cause: error });
      }
      throw error;
    }
  }

  /**
   * Calls `onChange` with every change of the key (the current value first, and again after each re-watch)
   * until the answer is called. Resolves once the current value has been handed over (or after the watch's start
   * timeout; it keeps trying).
   */
  async watch(onChange: (entry: BundleEntry) => void): Promise<() => Promise<void>> {
    await this.bucket();
    const watch = new KvWatch(
      this.nc,
      { bucket: buckets.policy.name, key: policyBundleKey, what: 'policy bundle', logger: this.logger },
      { onEntry: (entry) => onChange(toEntry(entry)) },
    );
    await watch.start();

    return () => watch.stop();
  }

  private bucket(): Promise<KV> {
    // policy owns the bucket and the bootstrap ensured it; binding again is idempotent
    this.kv ??= ensureBucket(this.nc, buckets.policy).catch((error: unknown) => {
      this.kv = undefined;
      throw error;
    });

    return this.kv;
  }
}
