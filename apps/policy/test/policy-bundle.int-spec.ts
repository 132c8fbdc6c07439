import { generateKeyPairSync, sign } from 'node:crypto';

import { policyBundleKey, subjects } from '@vivified/contracts';
import type { PolicyBundle } from '@vivified/policy-engine';
import {
  canonicalBundleJson,
  PolicyBundleError,
  signBundle,
  signedBundleFormat,
  verifySignedBundle,
} from '@vivified/policy-engine';
import { waitFor } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exampleRules, PolicyHarness, roleTraits } from './harness';

/** What `verifySignedBundle` says about a value: the bundle's version, or the paths of its problems. */
function verdict(policy: PolicyHarness, value: unknown): number | string[] {
  try {
    return verifySignedBundle(value, policy.keys.publicKey).version;
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyBundleError);

    return (error as PolicyBundleError).problems.map((problem) => problem.path);
  }
}

describe('policy bundle publication (nats-server, PostgreSQL)', () => {
  let policy: PolicyHarness;
  let admin: { id: string; token: string };
  let version: number;

  beforeAll(async () => {
    policy = await PolicyHarness.start();
    admin = await policy.user(roleTraits.admin);
    ({ version } = await policy.client.request(
      subjects.policy.rules.put,
      { rules: [...exampleRules], reason: 'baseline' },
      { token: admin.token },
    ));
  });

  afterAll(async () => {
    await policy?.stop();
  });

  it('detects a forged bundle written to KV, alarms, and puts the genuine one back', async () => {
    const kv = await policy.bucket();
    const bundle: PolicyBundle = {
      version: version + 100,
      createdAt: new Date().toISOString(),
      rules: [...exampleRules, { type: 'proxy', plugin: 'mallory', domains: ['evil.example'] }],
    };
    // signed with a key of the attacker's, under the platform's key id: only the KEK's key verifies
    const forger = generateKeyPairSync('ed25519');
    const forged = {
      format: signedBundleFormat,
      bundle,
      keyId: policy.keys.keyId,
      signature: sign(null, Buffer.from(canonicalBundleJson(bundle)), forger.privateKey).toString(
        'base64url',
      ),
    };

    const revision = await kv.put(policyBundleKey, JSON.stringify(forged));

    expect(verdict(policy, forged)).toEqual(['signature']);
    const restored = await waitFor(
      async () => {
        const entry = await policy.bundleEntry();

        return entry && entry.revision > revision ? entry : undefined;
      },
      { what: 'the genuine bundle to be republished', timeoutMs: 10_000 },
    );
    expect(verdict(policy, restored.json())).toBe(version);
    const alarms = await waitFor(
      async () => {
        const records = await policy.auditRecords();
        const found = records.filter((record) => record.action === 'bundle.rejected');

        return found.length > 0 ? found : undefined;
      },
      { what: 'the alarm in the audit trail', timeoutMs: 10_000 },
    );
    expect(alarms[0]).toMatchObject({
      category: 'policy',
      outcome: 'failure',
      actor: { kind: 'service', id: 'service:policy' },
      details: { reason: 'invalid_signature_or_content', revision },
    });
    // the service kept deciding with the genuine rules
    const service = await policy.token('service:gateway', ['system_core']);
    const decision = await policy.client.request(
      subjects.policy.decision.decide,
      {
        action: 'proxy.request',
        principal: { kind: 'plugin', id: 'mallory', traits: ['external_service'], status: 'active' },
        resource: { type: 'proxy' },
        classification: [],
        context: { domain: 'evil.example' },
      },
      { token: service },
    );
    expect(decision).toMatchObject({ effect: 'deny', bundleVersion: version });
  });

  it('refuses a tampered copy of the genuine bundle', async () => {
    const genuine = (await policy.bundleEntry())?.json<Record<string, unknown>>() ?? {};
    const tampered = {
      ...genuine,
      bundle: { ...(genuine['bundle'] as PolicyBundle), rules: [] },
    };

    expect(verdict(policy, genuine)).toBe(version);
    expect(verdict(policy, tampered)).toEqual(['signature']);
  });

  it('publishes nothing again when restarted with the bundle already in place', async () => {
    const before = await policy.bundleEntry();
    await policy.stopReplicas();
    await policy.startReplicas(1);
    const after = await policy.bundleEntry();

    expect(after?.revision).toBe(before?.revision);
    expect(verdict(policy, after?.json())).toBe(version);
  });

  it('replaces an older genuine bundle at start', async () => {
    await policy.stopReplicas();
    const kv = await policy.bucket();
    const older = signBundle(
      { version: version - 1, createdAt: new Date().toISOString(), rules: [] },
      policy.keys,
    );
    const revision = await kv.put(policyBundleKey, JSON.stringify(older));

    await policy.startReplicas(1);
    const entry = await policy.bundleEntry();

    expect(entry?.revision).toBe(revision + 1);
    expect(verdict(policy, entry?.json())).toBe(version);
  });

  it('publishes once when replicas start together on an empty key', async () => {
    await policy.stopReplicas();
    const kv = await policy.bucket();
    await kv.purge(policyBundleKey);
    const purged = await policy.bundleEntry();

    await policy.startReplicas(3);
    const entry = await policy.bundleEntry();

    expect(purged?.operation).toBe('PURGE');
    expect(entry?.revision).toBe((purged?.revision ?? 0) + 1);
    expect(verdict(policy, entry?.json())).toBe(version);
  });

  it('keeps every replica deciding with the newest rules, whichever replica saved them', async () => {
    const service = await policy.token('service:gateway', ['system_core']);
    const saved = await policy.client.request(
      subjects.policy.rules.put,
      { rules: [...exampleRules, { type: 'proxy', plugin: 'b', domains: ['api.example.com'] }] },
      { token: admin.token },
    );

    // replicas share one queue group: a run of requests lands on all three
    await waitFor(
      async () => {
        const versions = await Promise.all(
          Array.from({ length: 12 }, () =>
            policy.client.request(
              subjects.policy.decision.decide,
              {
                action: 'proxy.request',
                principal: { kind: 'plugin', id: 'b', traits: ['external_service'], status: 'active' },
                resource: { type: 'proxy' },
                classification: [],
                context: { domain: 'api.example.com' },
              },
              { token: service },
            ),
          ),
        );

        return versions.every((decision) => decision.bundleVersion === saved.version) ? versions : undefined;
      },
      { what: 'every replica to decide with the new bundle', timeoutMs: 10_000 },
    );
    expect(verdict(policy, (await policy.bundleEntry())?.json())).toBe(saved.version);
  });
});
