import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type {
  AdminRule,
  BundleSigningKeys,
  PolicyBundle,
  PolicyDecider,
  SignedPolicyBundle,
} from '@vivified/policy-engine';
import {
  CachedPolicyEngine,
  canonicalBundleJson,
  emptyBundle,
  PolicyBundleError,
  signBundle,
  verifySignedBundle,
} from '@vivified/policy-engine';
import type { ServiceLogger } from '@vivified/service-kit';
import { SERVICE_LOGGER } from '@vivified/service-kit';

import { serviceActor } from '../caller';
import { bundleTarget, PolicyAudit } from '../policy-audit';
import { PolicyMetrics } from '../policy-metrics';
import type { RuleSetRecord } from '../rules/rules.repository';
import { RulesRepository } from '../rules/rules.repository';
import type { BundleEntry } from './bundle-bucket.client';
import { BundleBucketClient, BundleWriteConflict } from './bundle-bucket.client';
import { BUNDLE_SIGNING_KEYS } from './bundle-keys.provider';

/** What a publication did. */
export type PublishOutcome = 'published' | 'unchanged' | 'newer_in_bucket';

/** Compare-and-swap rounds before a publication gives up (another writer kept winning). */
const PUBLISH_ATTEMPTS = 5;
/** Background republication after a failure: first and largest delay. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

/** The bundle compiled from a rule set: same version, created when the version was saved. */
export function bundleOf(record: RuleSetRecord): PolicyBundle {
  return {
    version: record.version,
    createdAt: record.updatedAt?.toISOString() ?? emptyBundle().createdAt,
    rules: record.rules as AdminRule[],
  };
}

type Checked = { ok: true; bundle: PolicyBundle } | { ok: false; problems: string[] };

/**
 * Signs bundles, publishes them to the `vivified_policy` bucket and keeps this replica's decider on the newest
 * genuine bundle (ADR-0006). Publication is a compare-and-swap that never replaces a newer genuine bundle; at
 * start it runs under the rules lock so replicas starting together publish once. A bundle in the bucket that
 * does not verify is an alarm (log, metric, audit) and is replaced with the genuine current one.
 */
@Injectable()
export class BundleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private bundle: PolicyBundle = emptyBundle();
  private readonly engine = new CachedPolicyEngine(this.bundle);
  private stopWatch: (() => Promise<void>) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_FIRST_MS;
  private stopped = false;

  constructor(
    @Inject(BUNDLE_SIGNING_KEYS) private readonly keys: BundleSigningKeys,
    private readonly bucket: BundleBucketClient,
    private readonly rules: RulesRepository,
    private readonly audit: PolicyAudit,
    private readonly metrics: PolicyMetrics,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.publishCurrent(true);
    this.stopWatch = await this.bucket.watch((entry) => {
      void this.onBucketChange(entry).catch((error: unknown) =>
        this.logger.error({ err: error }, 'policy bundle watch handling failed'),
      );
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.stopWatch?.();
  }

  /** The decider over the newest genuine bundle this replica knows (its own publications and the bucket's). */
  decider(): PolicyDecider {
    return this.engine;
  }

  /** The version {@link decider} decides with. */
  get version(): number {
    return this.bundle.version;
  }

  /** Signs a bundle with the platform's bundle key. @throws PolicyBundleError when it does not validate */
  sign(bundle: PolicyBundle): SignedPolicyBundle {
    return signBundle(bundle, this.keys);
  }

  /**
   * Publishes the bundle of a just-saved rule set and decides with it. When the bucket cannot be written, the
   * publication is retried in the background and the caller gets `UNAVAILABLE bundle_not_published`.
   */
  async publishSaved(record: RuleSetRecord): Promise<void> {
    const bundle = bundleOf(record);
    this.adopt(bundle);
    try {
      await this.publish(bundle, true);
    } catch (error) {
      this.logger.error({ err: error, version: bundle.version }, 'policy bundle not published; retrying');
      this.scheduleRetry();
      throw new VivifiedError(
        ErrorCode.Unavailable,
        `rules saved as version ${bundle.version}, but the bundle is not published yet; it is retried`,
        { reason: 'bundle_not_published', cause: error },
      );
    }
  }

  /** Publishes the bundle of the current rule set under the rules lock, and decides with it. */
  async publishCurrent(alarm: boolean): Promise<PublishOutcome | undefined> {
    return this.rules.withCurrentLocked(async (current) => {
      const bundle = bundleOf(current);
      try {
        this.adopt(bundle);
      } catch (error) {
        if (error instanceof PolicyBundleError) {
          // a stored rule set the engine no longer accepts: keep what the bucket holds and say so loudly
          this.logger.error(
            { version: bundle.version, problems: error.problems },
            'stored rules do not compile',
          );

          return undefined;
        }
        throw error;
      }

      return this.publish(bundle, alarm);
    });
  }

  /** Takes a genuine bundle as the one to decide with, if it is newer than the current one. */
  private adopt(bundle: PolicyBundle): void {
    if (bundle.version < this.bundle.version) {
      return;
    }
    if (
      bundle.version === this.bundle.version &&
      canonicalBundleJson(bundle) === canonicalBundleJson(this.bundle)
    ) {
      return;
    }
    this.engine.setBundle(bundle);
    this.bundle = bundle;
    this.metrics.setBundleVersion(bundle.version);
  }

  /** Compare-and-swap publication; a newer genuine bundle in the bucket is left alone. */
  private async publish(bundle: PolicyBundle, alarm: boolean): Promise<PublishOutcome> {
    const signed = this.sign(bundle);
    for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt += 1) {
      const entry = await this.bucket.read();
      if (entry?.present) {
        const held = this.check(entry.value);
        if (held.ok && held.bundle.version > bundle.version) {
          this.logger.warn(
            { held: held.bundle.version, current: bundle.version },
            'the bucket holds a newer genuine bundle than the rule set; left in place',
          );

          return 'newer_in_bucket';
        }
        if (held.ok && canonicalBundleJson(held.bundle) === canonicalBundleJson(bundle)) {
          return 'unchanged';
        }
        if (!held.ok && alarm) {
          await this.alarm(entry, held.problems);
        }
      }
      try {
        await this.bucket.write(signed, entry);
        this.logger.info({ version: bundle.version }, 'policy bundle published');

        return 'published';
      } catch (error) {
        if (!(error instanceof BundleWriteConflict)) {
          throw error;
        }
      }
    }
    throw new VivifiedError(ErrorCode.Unavailable, 'the policy bundle kept changing while being published', {
      reason: 'bundle_publish_contended',
    });
  }

  private check(value: unknown): Checked {
    try {
      return { ok: true, bundle: verifySignedBundle(value, this.keys.publicKey) };
    } catch (error) {
      if (error instanceof PolicyBundleError) {
        return { ok: false, problems: error.problems.map((problem) => `${problem.path} ${problem.message}`) };
      }

      return { ok: false, problems: [String(error)] };
    }
  }

  private async onBucketChange(entry: BundleEntry): Promise<void> {
    if (this.stopped) {
      return;
    }
    if (!entry.present) {
      this.metrics.bundleRejected('deleted');
      this.logger.error({ revision: entry.revision }, 'policy bundle deleted from the bucket; republishing');
      await this.audit.record({
        action: 'bundle.rejected',
        outcome: 'failure',
        actor: serviceActor,
        target: bundleTarget,
        details: { reason: 'deleted', revision: entry.revision },
      });
      await this.republish();

      return;
    }
    const held = this.check(entry.value);
    if (held.ok) {
      this.adopt(held.bundle);

      return;
    }
    await this.alarm(entry, held.problems);
    await this.republish();
  }

  /** A bundle that does not verify: every service ignores it; this one says so and replaces it. */
  private async alarm(entry: BundleEntry, problems: readonly string[]): Promise<void> {
    this.metrics.bundleRejected('invalid');
    this.logger.error(
      { revision: entry.revision, problems: problems.slice(0, 5) },
      'ALARM: a policy bundle in the bucket does not verify (forged or tampered); ignored and replaced',
    );
    await this.audit.record({
      action: 'bundle.rejected',
      outcome: 'failure',
      actor: serviceActor,
      target: bundleTarget,
      details: {
        reason: 'invalid_signature_or_content',
        revision: entry.revision,
        problems: problems.slice(0, 5),
      },
    });
  }

  private async republish(): Promise<void> {
    try {
      await this.publishCurrent(false);
    } catch (error) {
      this.logger.error({ err: error }, 'policy bundle republication failed; retrying');
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry !== undefined) {
      return;
    }
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.publishCurrent(false).then(
        () => {
          this.retryDelay = RETRY_FIRST_MS;
        },
        (error: unknown) => {
          this.logger.error({ err: error }, 'policy bundle republication failed; retrying');
          this.scheduleRetry();
        },
      );
    }, delay);
    this.retry.unref();
  }
}
