import type { PluginLifecycleMessage, PluginStatusEntry } from '@vivified/contracts';
import { buckets, dynamicSubjects, ErrorCode, streams, subjects, VivifiedError } from '@vivified/contracts';
import { decodeJson, ensureStream } from '@vivified/nats-transport';
import { readAuditStream, waitFor } from '@vivified/testing';
import type { KV } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RegistryHarness } from './harness';
import { roles, startRegistry } from './harness';
import { aManifest, aPiiManifest, plain } from './manifests';

async function failure(work: Promise<unknown>): Promise<VivifiedError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof VivifiedError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** Registration, approval and the lifecycle against real NATS, PostgreSQL and identity (its built process). */
describe('registry: registration, approval and lifecycle', () => {
  let h: RegistryHarness;
  let kv: KV;
  let admin: string;
  let operator: string;
  let viewer: string;
  const answeredSecrets: string[] = [];

  const entry = async (id: string): Promise<PluginStatusEntry | undefined> => {
    const value = await kv.get(id);

    return value?.operation === 'PUT' ? value.json<PluginStatusEntry>() : undefined;
  };

  const pluginToken = async (pluginId: string, clientSecret: string) =>
    (await h.client.request(subjects.identity.tokens.plugin, { pluginId, clientSecret })).accessToken;

  beforeAll(async () => {
    h = await startRegistry();
    // the audit service owns the stream; here the test creates it to read what the registry audits
    await ensureStream(await h.nc.jetstreamManager(), streams.audit);
    kv = await h.nc.jetstream().views.kv(buckets.plugins.name, { bindOnly: true });
    admin = await h.userToken(roles.admin, '00000000-0000-4000-8000-00000000000a');
    operator = await h.userToken(roles.operator, '00000000-0000-4000-8000-00000000000b');
    viewer = await h.userToken(roles.viewer, '00000000-0000-4000-8000-00000000000c');
  }, 90_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('dry-runs a manifest: every violation in one answer, or the verdict and what needs approval', async () => {
    const bad = plain(
      aManifest('dry-run', (manifest) => {
        manifest.traits = ['admin', 'no_such_trait'];
        manifest.allowedDomains = ['localhost'];
        manifest.security.dataClassification = ['phi'];
      }),
    );
    const verdict = await h.call(subjects.registry.plugins.validate, { manifest: bad }, operator);

    expect(verdict.ok).toBe(false);
    expect(verdict.violations.map((violation) => violation.code)).toEqual(
      expect.arrayContaining(['trait_blocked', 'trait_unknown', 'phi_trait_missing']),
    );
    expect(verdict.violations.length).toBeGreaterThanOrEqual(4);

    const good = await h.call(
      subjects.registry.plugins.validate,
      { manifest: plain(aPiiManifest('dry-pii')) },
      operator,
    );
    expect(good).toMatchObject({ ok: true, requiresApproval: true, sensitive: { traits: ['handles_pii'] } });
    expect(await h.sql('SELECT id FROM registry.plugins')).toEqual([]);
  });

  it('refuses an invalid registration with every violation listed (VALIDATION_FAILED), and a viewer', async () => {
    const bad = plain(aManifest('bad-one', (manifest) => (manifest.traits = ['root', 'ui.admin'])));
    const error = await failure(h.call(subjects.registry.plugins.register, { manifest: bad }, operator));

    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.details?.length).toBeGreaterThanOrEqual(2);
    expect(error.details?.flatMap((detail) => detail.messages).join(' ')).toContain('trait_blocked');

    const denied = await failure(
      h.call(subjects.registry.plugins.register, { manifest: plain(aManifest('by-viewer')) }, viewer),
    );
    expect(denied.code).toBe(ErrorCode.PolicyDenied);
  });

  let notifierSecret: string;

  it('registers a non-sensitive plugin active, with its credentials once and its KV entry', async () => {
    const reply = await h.call(
      subjects.registry.plugins.register,
      { manifest: plain(aManifest('notifier')) },
      operator,
    );

    expect(reply).toMatchObject({ id: 'notifier', status: 'active', version: '1.0.0' });
    notifierSecret = reply.credentials?.clientSecret ?? '';
    answeredSecrets.push(notifierSecret);
    expect(notifierSecret.length).toBeGreaterThanOrEqual(43);
    const stored = await entry('notifier');
    expect(stored).toMatchObject({
      status: 'active',
      traits: ['communication_plugin', 'handles_notifications'],
      version: '1.0.0',
      delivery: { mode: 'nats' },
      events: { publishes: ['NotificationSent'] },
    });
    expect(stored?.operations?.map((operation) => operation.name)).toEqual(['send']);
    expect(stored?.manifestDigest).toMatch(/^[0-9a-f]{64}$/);
    // the secret is real: identity exchanges it for a plugin token
    expect(await pluginToken('notifier', notifierSecret)).toMatch(/^ey/);
  });

  it('holds a sensitive plugin in pending_approval; approval needs an admin and answers credentials once', async () => {
    const reply = await h.call(
      subjects.registry.plugins.register,
      { manifest: plain(aPiiManifest('crm')) },
      operator,
    );
    expect(reply).toEqual({ id: 'crm', status: 'pending_approval', version: '1.0.0' });
    expect(await entry('crm')).toMatchObject({ status: 'pending_approval', traits: [] });

    const byOperator = await failure(
      h.call(subjects.registry.plugins.approve, { pluginId: 'crm' }, operator),
    );
    expect(byOperator).toMatchObject({ code: ErrorCode.PolicyDenied, reason: 'sensitive_approver_required' });

    const approved = await h.call(
      subjects.registry.plugins.approve,
      { pluginId: 'crm', reason: 'reviewed' },
      admin,
    );
    expect(approved).toMatchObject({ id: 'crm', status: 'active' });
    expect(approved.credentials?.clientSecret).toBeTruthy();
    answeredSecrets.push(approved.credentials?.clientSecret ?? '');
    expect(await entry('crm')).toMatchObject({
      status: 'active',
      traits: expect.arrayContaining(['handles_pii']) as unknown,
    });

    const again = await failure(h.call(subjects.registry.plugins.approve, { pluginId: 'crm' }, admin));
    expect(again.code).toBe(ErrorCode.Conflict);

    const list = await h.call(subjects.registry.plugins.list, {}, viewer);
    const one = await h.call(subjects.registry.plugins.get, { pluginId: 'crm' }, viewer);
    const answered = JSON.stringify([list, one]);
    expect(list.plugins.map((plugin) => plugin.id)).toEqual(['crm', 'notifier']);
    expect(one).toMatchObject({ approvedBy: 'user:00000000-0000-4000-8000-00000000000a', status: 'active' });
    for (const secret of [approved.credentials?.clientSecret ?? '', notifierSecret]) {
      expect(answered).not.toContain(secret);
    }
    expect(answered).not.toMatch(/clientSecret|natsCreds|credentials/);
  });

  it('disables a plugin: KV within a second, its sidecar calls refused, its secret revoked, a lifecycle message', async () => {
    const token = await pluginToken('notifier', notifierSecret);
    expect(await h.call(subjects.registry.heartbeat, { pluginId: 'notifier' }, token)).toMatchObject({
      health: 'healthy',
    });
    const messages: PluginLifecycleMessage[] = [];
    const sub = h.nc.subscribe(dynamicSubjects.pluginLifecycle('notifier'), {
      callback: (_error, msg) => messages.push(decodeJson(msg.data) as PluginLifecycleMessage),
    });
    const started = Date.now();

    const reply = await h.call(
      subjects.registry.plugins.disable,
      { pluginId: 'notifier', reason: 'test' },
      operator,
    );
    expect(reply).toEqual({ id: 'notifier', status: 'disabled', version: '1.0.0' });
    expect((await entry('notifier'))?.status).toBe('disabled');
    expect(Date.now() - started).toBeLessThan(1000);
    await waitFor(
      async () => {
        const refused = await failure(h.call(subjects.registry.heartbeat, { pluginId: 'notifier' }, token));

        return refused.code === ErrorCode.PluginInactive;
      },
      { timeoutMs: 1000, what: 'the sidecar to refuse the disabled plugin' },
    );
    await waitFor(() => messages.length > 0, { timeoutMs: 2000 });
    expect(messages[0]).toMatchObject({ pluginId: 'notifier', status: 'disabled', event: 'disabled' });
    sub.unsubscribe();
    // identity refuses the revoked secret
    expect((await failure(pluginToken('notifier', notifierSecret))).code).toBe(ErrorCode.Unauthenticated);
    const twice = await failure(
      h.call(subjects.registry.plugins.disable, { pluginId: 'notifier' }, operator),
    );
    expect(twice.code).toBe(ErrorCode.Conflict);
  });

  it('enables a disabled plugin after validating it again, with new credentials', async () => {
    const reply = await h.call(subjects.registry.plugins.enable, { pluginId: 'notifier' }, operator);

    expect(reply.status).toBe('active');
    const secret = reply.credentials?.clientSecret ?? '';
    answeredSecrets.push(secret);
    expect(secret).not.toBe(notifierSecret);
    expect((await entry('notifier'))?.status).toBe('active');
    expect(await pluginToken('notifier', secret)).toMatch(/^ey/);
  });

  it('refuses to enable a plugin whose manifest no longer passes (a dependency was removed)', async () => {
    await h.call(subjects.registry.plugins.register, { manifest: plain(aManifest('base-lib')) }, operator);
    const dependent = plain(aManifest('dependent', (manifest) => (manifest.dependencies = ['base-lib'])));
    expect((await h.call(subjects.registry.plugins.register, { manifest: dependent }, operator)).status).toBe(
      'active',
    );
    await h.call(subjects.registry.plugins.disable, { pluginId: 'dependent' }, operator);
    await h.call(subjects.registry.plugins.delete, { pluginId: 'base-lib' }, operator);

    const error = await failure(
      h.call(subjects.registry.plugins.enable, { pluginId: 'dependent' }, operator),
    );
    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.details?.[0]?.messages[0]).toContain('dependency_unknown');
    expect((await entry('dependent'))?.status).toBe('disabled');
  });

  it('upgrades: a new version re-validates, new sensitive traits wait for approval while the old one runs', async () => {
    const plainUpgrade = plain(aManifest('notifier', (manifest) => (manifest.version = '1.1.0')));
    const upgraded = await h.call(subjects.registry.plugins.register, { manifest: plainUpgrade }, operator);
    expect(upgraded).toEqual({ id: 'notifier', status: 'active', version: '1.1.0' });
    expect((await entry('notifier'))?.version).toBe('1.1.0');

    const same = await failure(
      h.call(
        subjects.registry.plugins.register,
        {
          manifest: plain(aManifest('notifier', (m) => ((m.version = '1.1.0'), (m.description = 'changed')))),
        },
        operator,
      ),
    );
    expect(same).toMatchObject({ code: ErrorCode.Conflict, reason: 'version_unchanged' });

    const sensitive = plain(aPiiManifest('notifier', (manifest) => (manifest.version = '2.0.0')));
    const waiting = await h.call(subjects.registry.plugins.register, { manifest: sensitive }, operator);
    expect(waiting).toEqual({ id: 'notifier', status: 'active', version: '1.1.0', upgradePending: true });
    expect(await entry('notifier')).toMatchObject({
      version: '1.1.0',
      traits: expect.not.arrayContaining(['handles_pii']) as unknown,
    });
    const view = await h.call(subjects.registry.plugins.get, { pluginId: 'notifier' }, viewer);
    expect(view.pendingUpgrade).toMatchObject({ version: '2.0.0', sensitive: { traits: ['handles_pii'] } });

    const approved = await h.call(subjects.registry.plugins.approve, { pluginId: 'notifier' }, admin);
    expect(approved).toEqual({ id: 'notifier', status: 'active', version: '2.0.0' });
    expect(await entry('notifier')).toMatchObject({
      version: '2.0.0',
      traits: expect.arrayContaining(['handles_pii']) as unknown,
    });
  });

  it('revokes: the plugin is deleted, its entry says revoked, its secret no longer works', async () => {
    const registered = await h.call(
      subjects.registry.plugins.register,
      { manifest: plain(aManifest('short-lived')) },
      operator,
    );
    const secret = registered.credentials?.clientSecret ?? '';

    const reply = await h.call(subjects.registry.plugins.delete, { pluginId: 'short-lived' }, operator);
    expect(reply).toMatchObject({ id: 'short-lived', status: 'revoked' });
    expect((await entry('short-lived'))?.status).toBe('revoked');
    expect(
      (await failure(h.call(subjects.registry.plugins.get, { pluginId: 'short-lived' }, viewer))).code,
    ).toBe(ErrorCode.NotFound);
    expect((await failure(pluginToken('short-lived', secret))).code).toBe(ErrorCode.Unauthenticated);
  });

  it('gives credentials to one of two registrations of the same new plugin racing each other', async () => {
    const register = () =>
      h.call(subjects.registry.plugins.register, { manifest: plain(aManifest('racer')) }, operator);
    const results = await Promise.allSettled([register(), register(), register()]);

    const answers = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const refusals = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as VivifiedError] : [],
    );
    expect(answers.filter((answer) => answer.credentials !== undefined)).toHaveLength(1);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ code: ErrorCode.Conflict, reason: 'plugin_exists' });
    }
  });

  it('registers with a one-time registration token an admin created, once', async () => {
    const denied = await failure(h.call(subjects.registry.registrationTokens.create, {}, operator));
    expect(denied.code).toBe(ErrorCode.PolicyDenied);

    const created = await h.call(subjects.registry.registrationTokens.create, { ttlSeconds: 600 }, admin);
    answeredSecrets.push(created.token);
    const stored = await h.sql<{ token_hash: string }>('SELECT token_hash FROM registry.registration_tokens');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.token_hash).not.toContain(created.token);

    const manifest = plain(aManifest('by-token'));
    const first = await h.call(subjects.registry.plugins.registerWithToken, {
      registrationToken: created.token,
      manifest,
    });
    expect(first).toMatchObject({ id: 'by-token', status: 'active' });
    expect((await h.call(subjects.registry.plugins.get, { pluginId: 'by-token' }, viewer)).registeredBy).toBe(
      `registration-token:${created.id}`,
    );

    const reused = await failure(
      h.call(subjects.registry.plugins.registerWithToken, {
        registrationToken: created.token,
        manifest: plain(aManifest('by-token-2')),
      }),
    );
    expect(reused).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'invalid_registration_token' });
  });

  it('audits every transition under category plugin, without a secret', async () => {
    const records: Array<{ action: string; outcome: string; pluginId?: string }> = [];
    let raw = '';
    await waitFor(
      async () => {
        const trail = await readAuditStream(h.nc);
        raw = JSON.stringify(trail);
        records.length = 0;
        records.push(...trail.filter((record) => record.category === 'plugin'));

        return records.some((record) => record.action === 'plugin.revoke');
      },
      { timeoutMs: 10_000, what: 'the plugin audit records' },
    );
    const actions = new Set(records.map((record) => `${record.action}:${record.outcome}`));
    for (const expected of [
      'plugin.register:success',
      'plugin.register:failure',
      'plugin.approve:success',
      'plugin.approve:denied',
      'plugin.disable:success',
      'plugin.enable:success',
      'plugin.enable:failure',
      'plugin.revoke:success',
      'plugin.registration_token.create:success',
    ]) {
      expect(actions, expected).toContain(expected);
    }
    for (const secret of answeredSecrets) {
      expect(raw).not.toContain(secret);
    }
  });
});
