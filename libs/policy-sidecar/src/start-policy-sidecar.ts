import type { KeyObject } from 'node:crypto';

import type { BearerVerifier } from '@vivified/auth';
import type { TransportLogger } from '@vivified/nats-transport';
import type { DecisionCacheOptions } from '@vivified/policy-engine';
import type { NatsConnection } from 'nats';

import type { PolicySidecarMetrics } from './metrics';
import { PluginStatusStore } from './plugin-status-store';
import { PolicyBundleStore } from './policy-bundle-store';
import type { DecisionAuditSink } from './policy-sidecar';
import { PolicySidecar } from './policy-sidecar';
import { SessionRevocationStore } from './session-revocation-store';

/** Options of {@link startPolicySidecar}. */
export interface StartPolicySidecarOptions {
  /** Verifies bearer tokens (libs/auth `TokenVerifier` over the JWKS key store). */
  verifier: BearerVerifier;
  /** The bundle verification key (`bundleVerificationKey(kekProvider)`). */
  publicKey: KeyObject;
  /** The service's audit emitter. */
  audit: DecisionAuditSink;
  metrics?: PolicySidecarMetrics;
  logger?: TransportLogger;
  /** Size of the decision cache. */
  cache?: DecisionCacheOptions;
  /** Bucket names and timings (tests). */
  pluginsBucket?: string;
  policyBucket?: string;
  sessionsBucket?: string;
  retryDelayMs?: readonly [number, number];
  startTimeoutMs?: number;
}

/** A started sidecar with the stores that feed it. */
export interface RunningPolicySidecar {
  readonly sidecar: PolicySidecar;
  readonly plugins: PluginStatusStore;
  readonly bundles: PolicyBundleStore;
  readonly sessions: SessionRevocationStore;
  /** Stops the three watches. */
  stop(): Promise<void>;
}

/**
 * Builds the sidecar of a service on its NATS connection and starts the plugin status, policy bundle and session
 * revocation watches (each resolves once loaded, when its bucket does not exist yet, or after the start timeout; both keep
 * following their bucket in the background).
 */
export async function startPolicySidecar(
  nc: NatsConnection,
  options: StartPolicySidecarOptions,
): Promise<RunningPolicySidecar> {
  const timing = {
    ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const plugins = new PluginStatusStore(nc, {
    ...timing,
    ...(options.pluginsBucket ? { bucket: options.pluginsBucket } : {}),
  });
  const bundles = new PolicyBundleStore(nc, {
    ...timing,
    publicKey: options.publicKey,
    ...(options.policyBucket ? { bucket: options.policyBucket } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
  });
  const sessions = new SessionRevocationStore(nc, {
    ...timing,
    ...(options.sessionsBucket ? { bucket: options.sessionsBucket } : {}),
  });
  await Promise.all([plugins.start(), bundles.start(), sessions.start()]);
  const sidecar = new PolicySidecar({
    verifier: options.verifier,
    plugins,
    sessions,
    decider: bundles.engine,
    audit: options.audit,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });

  return {
    sidecar,
    plugins,
    bundles,
    sessions,
    async stop() {
      await Promise.allSettled([plugins.stop(), bundles.stop(), sessions.stop()]);
    },
  };
}
