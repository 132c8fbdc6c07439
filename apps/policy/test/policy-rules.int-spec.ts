import { ErrorCode, subjects } from '@vivified/contracts';
import type { AdminRuleBody, PolicyRulesView } from '@vivified/contracts';
import { verifySignedBundle } from '@vivified/policy-engine';
import { waitFor } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exampleRules, PolicyHarness, rejection, roleTraits } from './harness';

describe('policy admin rules (nats-server, PostgreSQL)', () => {
  let policy: PolicyHarness;
  let admin: { id: string; token: string };

  beforeAll(async () => {
    policy = await PolicyHarness.start();
    admin = await policy.user(roleTraits.admin);
  });

  afterAll(async () => {
    await policy?.stop();
  });

  const put = (body: { rules: unknown[]; reason?: string; expectedVersion?: number }, token = admin.token) =>
    policy.client.request(subjects.policy.rules.put, body as { rules: AdminRuleBody[] }, { token });

  it('starts at version 0 with no rules, and publishes that bundle signed at start', async () => {
    const current = await policy.client.request(subjects.policy.rules.get, {}, { token: admin.token });
    const entry = await policy.bundleEntry();

    expect(current).toEqual({ version: 0, rules: [] });
    expect(entry?.operation).toBe('PUT');
    expect(verifySignedBundle(entry?.json(), policy.keys.publicKey)).toMatchObject({ version: 0, rules: [] });
  });

  it('saves the ARCHITECTURE §7 example as version 1 and publishes a bundle that verifies with the KEK-derived key', async () => {
    const saved = await put({ rules: [...exampleRules], reason: 'first allowlist' });
    const entry = await policy.bundleEntry();
    const bundle = verifySignedBundle(entry?.json(), policy.keys.publicKey);

    expect(saved).toMatchObject({ version: 1, rules: exampleRules, updatedBy: `user:${admin.id}` });
    expect(Date.parse(saved.updatedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(bundle).toEqual({ version: 1, createdAt: saved.updatedAt, rules: exampleRules });
    await expect(
      policy.client.request(subjects.policy.rules.get, {}, { token: admin.token }),
    ).resolves.toEqual(saved);
  });

  it('increments the version on every change and answers the signed bundle as published', async () => {
    const before = await policy.client.request(subjects.policy.rules.get, {}, { token: admin.token });
    const saved = await put({
      rules: [...exampleRules, { type: 'proxy', plugin: 'b', domains: ['*.example.net'] }],
    });
    const signed = await policy.client.request(subjects.policy.bundle.get, {}, { token: admin.token });

    expect(saved.version).toBe(before.version + 1);
    expect(signed).toEqual((await policy.bundleEntry())?.json());
    expect(verifySignedBundle(signed, policy.keys.publicKey).version).toBe(saved.version);
  });

  it('refuses invalid rules with every problem listed, and keeps the current version', async () => {
    const before = await policy.client.request(subjects.policy.rules.get, {}, { token: admin.token });

    const error = await rejection(
      put({
        rules: [
          { type: 'operator', caller: 'Not An Id', target: 'b', operations: ['get.user', 'get_user'] },
          { type: 'proxy', plugin: 'a', domains: ['*.com', '10.0.0.1'] },
          { type: 'firewall', plugin: 'a' },
          {
            type: 'break_glass',
            id: 'inc-1',
            principalId: admin.id,
            classifications: ['phi'],
            expiresAt: new Date(Date.now() + 48 * 3600_000).toISOString(),
            reason: 'outage',
          },
        ],
      }),
    );

    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.status).toBe(400);
    expect(error.reason).toBe('invalid_rules');
    const paths = error.details?.map((detail) => detail.path) ?? [];
    expect(paths).toEqual(
      expect.arrayContaining([
        'rules[0].caller',
        'rules[0].operations[0]',
        'rules[1].domains[0]',
        'rules[1].domains[1]',
        'rules[2].type',
        'rules[3].expiresAt',
      ]),
    );
    expect(paths.length).toBeGreaterThanOrEqual(6);
    await expect(
      policy.client.request(subjects.policy.rules.get, {}, { token: admin.token }),
    ).resolves.toEqual(before);
  });

  it('refuses a body that is not a rule list at the contract', async () => {
    const error = await rejection(
      policy.client.requestRaw(subjects.policy.rules.put, { rules: 'all' }, { token: admin.token }),
    );

    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.details?.[0]?.path).toBe('rules');
  });

  it('answers CONFLICT (409) when expectedVersion is not the current version, and saves when it is', async () => {
    const { version } = await policy.client.request(subjects.policy.rules.get, {}, { token: admin.token });

    const error = await rejection(put({ rules: [], expectedVersion: version - 1 }));
    const saved = await put({
      rules: [...exampleRules],
      expectedVersion: version,
      reason: 'back to the example',
    });

    expect(error.code).toBe(ErrorCode.Conflict);
    expect(error.status).toBe(409);
    expect(error.reason).toBe('version_conflict');
    expect(saved.version).toBe(version + 1);
  });

  it('keeps every version in the history, newest first, paged, and refuses to rewrite it', async () => {
    const current = await policy.client.request(subjects.policy.rules.get, {}, { token: admin.token });

    const first = await policy.client.request(
      subjects.policy.rules.history,
      { limit: 2 },
      { token: admin.token },
    );
    const rest = await policy.client.request(
      subjects.policy.rules.history,
      { limit: 2, before: first.nextBefore },
      { token: admin.token },
    );
    const versions = [...first.versions, ...rest.versions];

    expect(versions.map((entry) => entry.version)).toEqual(
      Array.from({ length: current.version }, (_, index) => current.version - index),
    );
    expect(versions[0]).toMatchObject({ rules: current.rules, changedBy: `user:${admin.id}` });
    expect(versions.at(-1)).toMatchObject({ version: 1, reason: 'first allowlist', rules: exampleRules });
    expect(rest.nextBefore).toBeUndefined();
    await expect(policy.sql('UPDATE rule_history SET reason = $1', ['rewritten'])).rejects.toThrow(
      /append-only/,
    );
    await expect(policy.sql('DELETE FROM rule_history')).rejects.toThrow(/append-only/);
    await expect(policy.sql('TRUNCATE rule_history CASCADE')).rejects.toThrow(/append-only/);
  });

  it('audits every change and every refused change (category policy), without the rules themselves', async () => {
    const records = await policy.auditRecords();
    const updates = records.filter((record) => record.action === 'rules.update');

    const success = updates.filter((record) => record.outcome === 'success');
    const failures = updates.filter((record) => record.outcome === 'failure');
    expect(success.map((record) => record.details['version'])).toEqual([1, 2, 3]);
    expect(success[0]).toMatchObject({
      category: 'policy',
      actor: { kind: 'user', id: `user:${admin.id}` },
      target: 'policy:rules',
      details: { previousVersion: 0, changeReason: 'first allowlist', ruleCounts: { operator: 1, proxy: 1 } },
    });
    expect(failures.map((record) => record.details['reason'])).toEqual(['invalid_rules', 'version_conflict']);
    expect(JSON.stringify(records)).not.toContain('api.example.org');
  });

  it('lets readers read but not write, and refuses everyone else', async () => {
    const auditor = await policy.user(roleTraits.complianceOfficer);
    const security = await policy.user(roleTraits.securityAdmin);
    const viewer = await policy.user(roleTraits.viewer);
    const plugin = await policy.token('plugin:crm-sync', ['handles_pii', 'audit_required']);

    const read = await policy.client.request(subjects.policy.rules.get, {}, { token: auditor.token });
    const write = await rejection(put({ rules: [] }, auditor.token));
    const viewerRead = await rejection(
      policy.client.request(subjects.policy.rules.get, {}, { token: viewer.token }),
    );
    const pluginRead = await rejection(
      policy.client.request(subjects.policy.rules.get, {}, { token: plugin }),
    );
    const anonymous = await rejection(policy.client.request(subjects.policy.rules.get, {}));
    const securityWrite: PolicyRulesView = await put({ rules: [...exampleRules] }, security.token);

    expect(read.version).toBeGreaterThan(0);
    expect(write).toMatchObject({ code: ErrorCode.PolicyDenied, reason: 'trait_missing' });
    expect(viewerRead).toMatchObject({ code: ErrorCode.PolicyDenied, reason: 'trait_missing' });
    expect(pluginRead).toMatchObject({ code: ErrorCode.PolicyDenied, reason: 'principal_kind_not_allowed' });
    expect(anonymous).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'token_missing' });
    expect(securityWrite.updatedBy).toBe(`user:${security.id}`);
  });

  it('lists the trait vocabulary to any authenticated principal', async () => {
    await policy.activatePlugin('crm-sync', []);
    const plugin = await policy.token('plugin:crm-sync', []);

    // the sidecar sees the plugin's status through its watch of the bucket, within a moment
    const { traits } = await waitFor(
      () => policy.client.request(subjects.policy.traits.list, {}, { token: plugin }),
      { what: 'the active plugin to be served', timeoutMs: 10_000 },
    );
    const anonymous = await rejection(policy.client.request(subjects.policy.traits.list, {}));

    const byName = new Map(traits.map((trait) => [trait.name, trait]));
    expect(traits.length).toBeGreaterThanOrEqual(54);
    expect(byName.get('handles_phi')).toMatchObject({ category: 'data_access', sensitive: true });
    expect(byName.get('handles_phi')?.requires).toContain('audit_required');
    expect(byName.get('network_isolated')?.conflicts).toContain('external_service');
    expect(traits.some((trait) => trait.aliases.length > 0)).toBe(true);
    expect(anonymous.code).toBe(ErrorCode.Unauthenticated);
  });
});
