import { buckets, JwksEntry, parsePayload, tokenContract } from '@vivified/contracts';
import type { TransportLogger } from '@vivified/nats-transport';
import { KvWatch, silentLogger } from '@vivified/nats-transport';
import { importJWK } from 'jose';
import type { KV, KvEntry, NatsConnection } from 'nats';

import { keysUnavailable } from './errors';
import type { KeyResolver, VerificationKey } from './token-verifier';

/** Options of a {@link JwksKeyStore}. */
export interface JwksKeyStoreOptions {
  /**
   * The bucket of public keys.
   * @default buckets.jwks.name (`vivified_jwks`)
   */
  bucket?: string;
  /**
   * A `kid` that is not known is re-read from the bucket at most once in this many milliseconds, and all
   * re-reads together at most {@link maxRereadsPerInterval} times in it (a flood of made-up kids costs nothing).
   * @default 10000
   */
  refreshMinIntervalMs?: number;
  /** @default 20 */
  maxRereadsPerInterval?: number;
  /**
   * How long `start()` waits for the first load before it lets the service go on (the load continues).
   * @default 5000
   */
  startTimeoutMs?: number;
  /**
   * First and longest pause between attempts to bind the bucket (it may not exist yet), in milliseconds.
   * @default [250, 5000]
   */
  retryDelayMs?: readonly [number, number];
  /** The clock, in epoch milliseconds (tests). */
  now?: () => number;
  logger?: TransportLogger;
}

interface KnownKey {
  /** Resolves to undefined when the JWK could not be imported. */
  key: Promise<VerificationKey | undefined>;
  /** Epoch ms after which the key verifies nothing; undefined while current. */
  retiresAt: number | undefined;
}

/** What nats.js accepts as a KV key, kept short: a longer or odder `kid` cannot be in the bucket. */
const KID = /^[-\w=]+(\.[-\w=]+)*$/;
const MAX_KID_LENGTH = 128;

/**
 * A live copy of the public signing keys identity publishes in the `vivified_jwks` bucket (ADR-0005). It loads
 * and watches the bucket (puts and deletes), waits for the bucket to appear when identity has not created it
 * yet, re-reads a `kid` it does not know once per interval, and refuses keys whose `retiresAt` has passed.
 */
export class JwksKeyStore implements KeyResolver {
  private readonly bucket: string;
  private readonly refreshMinIntervalMs: number;
  private readonly maxRereads: number;
  private readonly now: () => number;
  private readonly log: TransportLogger;
  private readonly keys = new Map<string, KnownKey>();
  /** Latest revision applied per kid, deletes included. */
  private readonly revisions = new Map<string, number>();
  private readonly lastReread = new Map<string, number>();
  private readonly rereads = new Map<string, Promise<VerificationKey | undefined>>();
  private rereadWindow = { start: 0, count: 0 };
  private readonly watch: KvWatch;
  private kv: KV | undefined;

  constructor(nc: NatsConnection, options: JwksKeyStoreOptions = {}) {
    this.bucket = options.bucket ?? buckets.jwks.name;
    this.refreshMinIntervalMs = options.refreshMinIntervalMs ?? 10_000;
    this.maxRereads = options.maxRereadsPerInterval ?? 20;
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? silentLogger;
    this.watch = new KvWatch(
      nc,
      {
        bucket: this.bucket,
        what: 'signing key',
        retryDelayMs: options.retryDelayMs ?? [250, 5_000],
        logger: this.log,
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      },
      {
        onWatch: (kv) => {
          // identity owns the bucket and its settings: it is bound, never created; re-reads of unknown kids use it
          this.kv = kv;
          // a new watch replays the bucket from its current state; revisions restart if the bucket was recreated
          this.revisions.clear();
        },
        onEntry: (entry) => this.apply(entry),
        onLoaded: (seen) => {
          // any kid not in the current values was removed while we were not watching
          for (const kid of this.keys.keys()) {
            if (!seen.has(kid)) {
              this.keys.delete(kid);
            }
          }
          this.log.debug({ bucket: this.bucket, keys: this.keys.size }, 'signing keys loaded');
        },
      },
    );
  }

  /**
   * Starts loading and watching the bucket. Resolves once the current keys are loaded, or as soon as the bucket
   * turns out not to exist yet, or after `startTimeoutMs`; the store keeps trying in the background, and
   * {@link resolve} answers `UNAVAILABLE` `keys_unavailable` while it knows no key.
   */
  async start(): Promise<void> {
    await this.watch.start();
    // the loaded keys are usable once imported (an import that fails resolves to undefined)
    await Promise.all([...this.keys.values()].map((known) => known.key));
  }

  /** Stops watching; known keys stay resolvable. */
  stop(): Promise<void> {
    return this.watch.stop();
  }

  /** Whether the store has loaded the bucket at least once. */
  get loaded(): boolean {
    return this.watch.loaded;
  }

  /** The kids currently known (retired ones included until identity deletes them). */
  kids(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * The public key of `kid`, or undefined when it is unknown (after one rate-limited re-read) or retired.
   * Throws `UNAVAILABLE` `keys_unavailable` while no key at all is known.
   */
  async resolve(kid: string): Promise<VerificationKey | undefined> {
    const known = this.keys.get(kid);
    if (known) {
      return this.usable(known);
    }
    if (typeof kid === 'string' && kid.length <= MAX_KID_LENGTH && KID.test(kid)) {
      const reread = await this.reread(kid);
      if (reread) {
        return reread;
      }
    }
    if (this.keys.size === 0) {
      throw keysUnavailable();
    }

    return undefined;
  }

  private async usable(known: KnownKey): Promise<VerificationKey | undefined> {
    if (known.retiresAt !== undefined && known.retiresAt <= this.now()) {
      return undefined;
    }

    return known.key;
  }

  private reread(kid: string): Promise<VerificationKey | undefined> {
    const pending = this.rereads.get(kid);
    if (pending) {
      return pending;
    }
    const kv = this.kv;
    if (!kv || !this.allowReread(kid)) {
      return Promise.resolve(undefined);
    }
    const work = (async () => {
      try {
        const entry = await kv.get(kid);
        if (entry) {
          this.apply(entry);
        }
      } catch (error) {
        this.log.warn({ err: error, bucket: this.bucket }, 'signing key re-read failed');
      }
      const known = this.keys.get(kid);

      return known ? this.usable(known) : undefined;
    })().finally(() => this.rereads.delete(kid));
    this.rereads.set(kid, work);

    return work;
  }

  private allowReread(kid: string): boolean {
    const now = this.now();
    const last = this.lastReread.get(kid);
    if (last !== undefined && now - last < this.refreshMinIntervalMs) {
      return false;
    }
    if (now - this.rereadWindow.start >= this.refreshMinIntervalMs) {
      this.rereadWindow = { start: now, count: 0 };
      for (const [key, at] of this.lastReread) {
        if (now - at >= this.refreshMinIntervalMs) {
          this.lastReread.delete(key);
        }
      }
    }
    if (this.rereadWindow.count >= this.maxRereads) {
      return false;
    }
    this.rereadWindow.count += 1;
    this.lastReread.set(kid, now);

    return true;
  }

  private apply(entry: KvEntry): void {
    const kid = entry.key;
    // a re-read may answer after the watch saw a newer put or delete of the same kid
    if ((this.revisions.get(kid) ?? 0) >= entry.revision) {
      return;
    }
    this.revisions.set(kid, entry.revision);
    if (entry.operation !== 'PUT') {
      this.keys.delete(kid);
      this.log.info({ kid }, 'signing key removed');

      return;
    }
    const parsed = this.parse(entry);
    if (!parsed) {
      this.keys.delete(kid);

      return;
    }
    const known: KnownKey = {
      retiresAt: parsed.retiresAt === undefined ? undefined : Date.parse(parsed.retiresAt),
      key: importJWK({ kty: parsed.kty, crv: parsed.crv, x: parsed.x }, tokenContract.algorithm).then(
        (key) => key as VerificationKey,
        (error: unknown) => {
          this.log.warn({ err: error, kid }, 'signing key could not be imported');
          // an unusable key must not look known: a later put replaces it, a lookup re-reads it
          if (this.keys.get(kid) === known) {
            this.keys.delete(kid);
          }

          return undefined;
        },
      ),
    };
    this.keys.set(kid, known);
    this.log.info({ kid, retiresAt: parsed.retiresAt }, 'signing key loaded');
  }

  private parse(entry: KvEntry): JwksEntry | undefined {
    let value: JwksEntry | undefined;
    try {
      value = parsePayload(JwksEntry, entry.json());
    } catch {
      value = undefined;
    }
    if (
      !value ||
      value.kid !== entry.key ||
      value.kty !== 'OKP' ||
      value.crv !== 'Ed25519' ||
      value.alg !== tokenContract.algorithm ||
      value.use !== 'sig' ||
      (value.retiresAt !== undefined && Number.isNaN(Date.parse(value.retiresAt)))
    ) {
      this.log.warn({ kid: entry.key, bucket: this.bucket }, 'ignoring an invalid signing key entry');

      return undefined;
    }

    return value;
  }
}
