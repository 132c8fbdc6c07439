import { generateKeyPairSync } from 'node:crypto';

import type { PolicyBundle } from '@vivified/policy-engine';
import { bundleSigningKeys, signBundle } from '@vivified/policy-engine';
import type { NatsConnection } from 'nats';
import { beforeEach, describe, expect, it } from 'vitest';

import type { PolicySidecarMetrics } from './metrics';
import { bundleVerificationKey, PolicyBundleStore } from './policy-bundle-store';

const seed = Buffer.alloc(32, 7);
const keys = bundleSigningKeys(seed);

function bundle(version: number, callers: string[] = ['crm']): PolicyBundle {
  return {
    version,
    createdAt: '2030-01-01T00:00:00Z',
    rules: callers.map((caller) => ({
      type: 'operator',
      caller,
      target: 'billing',
      operations: ['get_invoice'],
    })),
  };
}

class Metrics implements PolicySidecarMetrics {
  versions: number[] = [];
  rejected: string[] = [];
  policyDecision(): void {}
  setPolicyBundleVersion(version: number): void {
    this.versions.push(version);
  }
  policyBundleRejected(reason: string): void {
    this.rejected.push(reason);
  }
}

describe(PolicyBundleStore.name, () => {
  let metrics: Metrics;
  let errors: object[];
  let sut: PolicyBundleStore;

  beforeEach(() => {
    metrics = new Metrics();
    errors = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (obj: object) => errors.push(obj),
    };
    // offer() never touches the connection; only start() does
    sut = new PolicyBundleStore({} as NatsConnection, { publicKey: keys.publicKey, metrics, logger });
  });

  it('starts with the empty bundle, version 0', () => {
    expect(sut.version).toBe(0);
    expect(sut.engine.bundleVersion).toBe(0);
    expect(metrics.versions).toEqual([0]);
  });

  it('puts a bundle signed with the platform key in force, in the same engine', () => {
    const engine = sut.engine;

    expect(sut.offer(signBundle(bundle(3), keys))).toBeUndefined();

    expect(sut.version).toBe(3);
    expect(sut.engine).toBe(engine);
    expect(engine.bundleVersion).toBe(3);
    expect(metrics.versions).toEqual([0, 3]);
  });

  it.each<[string, () => unknown, string]>([
    ['a tampered rule', () => ({ ...signBundle(bundle(5), keys), bundle: bundle(5, ['evil']) }), 'signature'],
    [
      'a bundle signed with another key',
      () => {
        const other = bundleSigningKeys(Buffer.alloc(32, 9));

        return { ...signBundle(bundle(5), other), keyId: keys.keyId };
      },
      'signature',
    ],
    [
      'the key id of another key',
      () => signBundle(bundle(5), bundleSigningKeys(Buffer.alloc(32, 9))),
      'key_id',
    ],
    ['an unsigned bundle', () => bundle(5), 'format'],
    ['not an object', () => 'bundle', 'malformed'],
    [
      'a signature of the wrong length',
      () => ({ ...signBundle(bundle(5), keys), signature: 'AAAA' }),
      'signature',
    ],
  ])('ignores %s, keeps the bundle in force, counts it and raises an alarm', (_case, forge, reason) => {
    sut.offer(signBundle(bundle(2), keys));

    expect(sut.offer(forge())).toBe(reason);

    expect(sut.version).toBe(2);
    expect(metrics.rejected).toEqual([reason]);
    expect(errors).toEqual([
      expect.objectContaining({ alarm: 'policy_bundle_rejected', reason, version: 2 }),
    ]);
  });

  it('refuses an older signed bundle (a replay) and takes the same version again as a no-op', () => {
    sut.offer(signBundle(bundle(4), keys));

    expect(sut.offer(signBundle(bundle(3), keys))).toBe('rollback');
    expect(sut.offer(signBundle(bundle(4), keys))).toBeUndefined();

    expect(sut.version).toBe(4);
    expect(metrics.versions).toEqual([0, 4]);
    expect(metrics.rejected).toEqual(['rollback']);
  });

  it('derives the verification key the policy service signs for from the KEK', async () => {
    const hashed: string[] = [];
    const provider = {
      hashKey: (purpose: string) => {
        hashed.push(purpose);

        return Promise.resolve(Buffer.from(seed));
      },
    };

    const publicKey = await bundleVerificationKey(provider);

    expect(hashed).toEqual(['vivified.policy.bundle-signing']);
    expect(publicKey.equals(keys.publicKey)).toBe(true);
    expect(generateKeyPairSync('ed25519').publicKey.equals(publicKey)).toBe(false);
  });
});
