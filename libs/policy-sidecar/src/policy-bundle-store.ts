import type { KeyObject } from 'node:crypto';

import { buckets } from '@vivified/contracts';
import type { KekProvider } from '@vivified/crypto';
import type { DecisionCacheOptions, PolicyBundle } from '@vivified/policy-engine';
import {
  bundleSigningKeys,
  bundleSigningPurpose,
  CachedPolicyEngine,
  emptyBundle,
  PolicyBundleError,
  verifySignedBundle,
} from '@vivified/policy-engine';
import type { TransportLogger } from '@vivified/nats-transport';
import { KvWatch, silentLogger } from '@vivified/nats-transport';
import type { KvEntry, NatsConnection } from 'nats';

import type { PolicySidecarMetrics } from './metrics';

/** The KV key of the signed bundle in the `vivified_policy` bucket. */
export const POLICY_BUNDLE_KEY = 'bundle';

/**
 * Why a bundle read from KV was not applied (the `reason` label of `vivified_policy_bundle_rejected_total`):
 * not JSON, not the signed format, signed with another key, a signature that does not verify, a bundle that does
 * not validate, or an older version than the one in force (a replayed bundle).
 */
export type BundleRejection = 'malformed' | 'format' | 'key_id' | 'signature' | 'invalid_bundle' | 'rollback';

/** Options of a {@link PolicyBundleStore}. */
export interface PolicyBundleStoreOptions {
  /** The Ed25519 public key bundles must be signed for (see {@link bundleVerificationKey}). */
  publicKey: KeyObject;
  /** @default buckets.policy.name (`vivified_policy`) */
  bucket?: string;
  /** @default POLICY_BUNDLE_KEY (`bundle`) */
  key?: string;
  /** Size of the decision cache. */
  cache?: DecisionCacheOptions;
  /** Counts rejected bundles and shows the version in force. */
  metrics?: PolicySidecarMetrics;
  /** @default [250, 1000] */
  retryDelayMs?: readonly [number, number];
  /** @default 5000 */
  startTimeoutMs?: number;
  logger?: TransportLogger;
}

/** The bundle verification key of a deployment: derived from its KEK, as the policy service derives its signing key. */
export async function bundleVerificationKey(kekProvider: Pick<KekProvider, 'hashKey'>): Promise<KeyObject> {
  const seed = await kekProvider.hashKey(bundleSigningPurpose);
  try {
    return bundleSigningKeys(seed).publicKey;
  } finally {
    seed.fill(0);
  }
}

function rejectionOf(error: unknown): BundleRejection {
  if (!(error instanceof PolicyBundleError)) {
    return 'malformed';
  }
  const path = error.problems[0]?.path;
  switch (path) {
    case '':
    case 'bundle':
      return 'malformed';
    case 'format':
      return 'format';
    case 'keyId':
      return 'key_id';
    case 'signature':
      return 'signature';
    default:
      return 'invalid_bundle';
  }
}

/**
 * The policy bundle in force in this service: starts with {@link emptyBundle} (version 0: the built-in rules
 * decide, no admin rules), then follows the signed bundle the policy service publishes to KV. A new bundle is
 * verified (format, key id, Ed25519 signature, validation) and swapped into the same {@link CachedPolicyEngine}
 * as soon as the watch delivers it; a bundle that fails any check, or is older than the one in force, is
 * ignored, logged at error level (an alarm: someone wrote to the bucket without the platform's key, or replayed
 * an old bundle) and counted. Removing the key keeps the bundle in force.
 */
export class PolicyBundleStore {
  /** The engine every decision of the service goes through; the same object across reloads. */
  readonly engine: CachedPolicyEngine;
  private readonly watch: KvWatch;
  private readonly log: TransportLogger;
  private readonly publicKey: KeyObject;
  private readonly metrics: PolicySidecarMetrics | undefined;
  private bundle: PolicyBundle;

  constructor(nc: NatsConnection, options: PolicyBundleStoreOptions) {
    this.log = options.logger ?? silentLogger;
    this.publicKey = options.publicKey;
    this.metrics = options.metrics;
    this.bundle = emptyBundle();
    this.engine = new CachedPolicyEngine(this.bundle, options.cache);
    this.metrics?.setPolicyBundleVersion(this.bundle.version);
    const bucket = options.bucket ?? buckets.policy.name;
    const key = options.key ?? POLICY_BUNDLE_KEY;
    this.watch = new KvWatch(
      nc,
      {
        bucket,
        key,
        what: 'policy bundle',
        logger: this.log,
        ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      },
      { onEntry: (entry) => this.apply(entry) },
    );
  }

  /** Starts watching (see {@link KvWatch.start}); until a valid bundle arrives the empty bundle is in force. */
  start(): Promise<void> {
    return this.watch.start();
  }

  /** Stops watching; the bundle in force stays. */
  stop(): Promise<void> {
    return this.watch.stop();
  }

  /** The version in force (0 before the first valid bundle). */
  get version(): number {
    return this.bundle.version;
  }

  /** Applies a bundle value as read from KV; answers why it was refused, or undefined when it is in force. */
  offer(value: unknown, revision?: number): BundleRejection | undefined {
    let bundle: PolicyBundle;
    try {
      bundle = verifySignedBundle(value, this.publicKey);
    } catch (error) {
      return this.reject(rejectionOf(error), revision, error);
    }
    if (bundle.version < this.bundle.version) {
      return this.reject('rollback', revision, undefined, bundle.version);
    }
    if (bundle.version === this.bundle.version && this.bundle.version > 0) {
      // the same version again (a new watch replays it): nothing changes
      return undefined;
    }
    try {
      this.engine.setBundle(bundle);
    } catch (error) {
      return this.reject('invalid_bundle', revision, error);
    }
    const previous = this.bundle.version;
    this.bundle = bundle;
    this.metrics?.setPolicyBundleVersion(bundle.version);
    this.log.info(
      { version: bundle.version, previous, rules: bundle.rules.length },
      'policy bundle in force',
    );

    return undefined;
  }

  private apply(entry: KvEntry): void {
    if (entry.operation !== 'PUT') {
      this.log.warn(
        { version: this.bundle.version },
        'policy bundle removed from KV; keeping the one in force',
      );

      return;
    }
    let value: unknown;
    try {
      value = entry.json();
    } catch (error) {
      this.reject('malformed', entry.revision, error);

      return;
    }
    this.offer(value, entry.revision);
  }

  private reject(
    reason: BundleRejection,
    revision: number | undefined,
    error?: unknown,
    offeredVersion?: number,
  ): BundleRejection {
    this.metrics?.policyBundleRejected(reason);
    const problems = error instanceof PolicyBundleError ? error.problems.slice(0, 5) : undefined;
    this.log.error(
      {
        alarm: 'policy_bundle_rejected',
        reason,
        revision,
        version: this.bundle.version,
        ...(offeredVersion === undefined ? {} : { offeredVersion }),
        ...(problems ? { problems } : {}),
      },
      'policy bundle rejected; keeping the one in force',
    );

    return reason;
  }
}
