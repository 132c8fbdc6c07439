import { Module } from '@nestjs/common';
import type { AuditRecord, ConfigCatalog, ConfigPutRequest, PlatformConfigEntry } from '@vivified/contracts';
import {
  buckets,
  dynamicSubjects,
  ErrorCode,
  opsPortEnv,
  platformConfigCatalog,
  platformConfigKey,
  streams,
  subjects,
} from '@vivified/contracts';
import { ensureBucket } from '@vivified/nats-transport';
import { bootstrapService } from '@vivified/service-kit';
import { freePort, waitFor } from '@vivified/testing';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PlatformConfigModule } from '../src/config/platform-config.module';
import { PolicyHarness, rejection, roleTraits } from './harness';

const SECRET = 'correct horse battery staple';
const SECRET_KEY = 'test.smtp_password';

/** The platform catalog plus a secret, served by a replica of its own for the sensitive-value tests. */
const catalogWithSecret: ConfigCatalog = {
  ...platformConfigCatalog,
  [SECRET_KEY]: {
    type: 'string',
    sensitive: true,
    readers: ['test'],
    description: 'A secret of this test: sealed at rest, never answered',
  },
};

@Module({ imports: [PlatformConfigModule.forCatalog(catalogWithSecret)] })
class SecretConfigTestModule {}

describe('platform config (nats-server, PostgreSQL)', () => {
  let policy: PolicyHarness;
  let admin: { id: string; token: string };
  let viewer: { id: string; token: string };

  beforeAll(async () => {
    policy = await PolicyHarness.start();
    admin = await policy.user(roleTraits.admin);
    viewer = await policy.user(roleTraits.viewer);
  });

  afterAll(async () => {
    await policy?.stop();
  });

  const get = (token = admin.token) => policy.client.request(subjects.policy.config.get, {}, { token });
  const put = (body: ConfigPutRequest, token = admin.token) =>
    policy.client.request(subjects.policy.config.put, body, { token });
  const history = (body: { limit?: number; before?: number } = {}, token = admin.token) =>
    policy.client.request(subjects.policy.config.history, body, { token });

  const published = async (): Promise<PlatformConfigEntry | undefined> => {
    const entry = await (await ensureBucket(policy.nc, buckets.config)).get(platformConfigKey);

    return entry?.operation === 'PUT' ? entry.json<PlatformConfigEntry>() : undefined;
  };

  const configAudit = async (): Promise<AuditRecord[]> => {
    const jsm = await policy.nc.jetstreamManager();
    const info = await jsm.streams.info(streams.audit.name);
    const records: AuditRecord[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const message = await jsm.streams.getMessage(streams.audit.name, { seq }).catch(() => undefined);
      if (message?.subject === dynamicSubjects.auditRecord('config')) {
        records.push(message.json<AuditRecord>());
      }
    }

    return records;
  };

  it('starts at version 0 with every catalog key at its default, for admins and viewers alike', async () => {
    const view = await get();

    expect(view.version).toBe(0);
    expect(view.etag).toMatch(/^"cfg-0-[0-9a-f]+"$/);
    expect(Object.keys(view.values).sort()).toEqual(Object.keys(platformConfigCatalog).sort());
    expect(view.values['ui.plugin_install.enabled']).toEqual({
      value: false,
      default: false,
      source: 'default',
      sensitive: false,
    });
    expect(view.values['ui.docs.base']).toEqual({ source: 'default', sensitive: false });
    await expect(get(viewer.token)).resolves.toEqual(view);
  });

  it('publishes the defaults to vivified_config at start', async () => {
    await expect(waitFor(published, { what: 'the config entry' })).resolves.toEqual({
      version: 0,
      values: {
        'ui.admin_console.enabled': true,
        'ui.plugin_install.enabled': false,
        'ui.plugins.enabled': true,
      },
    });
  });

  it('saves a change as version 1, answers it, publishes it and audits the keys', async () => {
    const saved = await put({
      values: { 'ui.plugin_install.enabled': true, 'ui.docs.base': 'https://docs.example.org/' },
      reason: 'pilot',
    });

    expect(saved.version).toBe(1);
    expect(saved.values['ui.plugin_install.enabled']).toMatchObject({
      value: true,
      default: false,
      source: 'set',
      updatedBy: `user:${admin.id}`,
    });
    expect(Date.parse(saved.values['ui.docs.base']?.updatedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(saved.values['ui.plugins.enabled']).toMatchObject({ value: true, source: 'default' });
    await expect(get()).resolves.toEqual(saved);
    await expect(
      waitFor(async () => ((await published())?.version === 1 ? published() : false)),
    ).resolves.toMatchObject({
      version: 1,
      values: {
        'ui.admin_console.enabled': true,
        'ui.plugin_install.enabled': true,
        'ui.plugins.enabled': true,
        'ui.docs.base': 'https://docs.example.org/',
      },
    });
    const record = await waitFor(async () =>
      (await configAudit()).find((item) => item.outcome === 'success' && item.details?.['version'] === 1),
    );
    expect(record).toMatchObject({
      category: 'config',
      action: 'config.update',
      actor: { kind: 'user', id: `user:${admin.id}` },
      target: 'config:platform',
      details: {
        previousVersion: 0,
        changeReason: 'pilot',
        keys: ['ui.docs.base', 'ui.plugin_install.enabled'],
      },
    });
  });

  it('changes the ETag with every version and resets a key to its default with null', async () => {
    const before = await get();
    const saved = await put({ values: { 'ui.docs.base': null } });

    expect(saved.version).toBe(before.version + 1);
    expect(saved.etag).not.toBe(before.etag);
    expect(saved.values['ui.docs.base']).toEqual({ source: 'default', sensitive: false });
    expect(saved.values['ui.plugin_install.enabled']).toMatchObject({ value: true, source: 'set' });
  });

  it('refuses unknown keys and misfit values in one VALIDATION_FAILED naming each, and changes nothing', async () => {
    const before = await get();
    const error = await rejection(
      put({
        values: {
          'ui.unknown.flag': true,
          'ui.plugins.enabled': 'yes',
          'ui.docs.base': 'http://plain.example',
        },
      }),
    );

    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.reason).toBe('invalid_config');
    expect(error.details).toEqual([
      { path: 'values.ui.unknown.flag', messages: ['unknown config key "ui.unknown.flag"'] },
      { path: 'values.ui.plugins.enabled', messages: ['must be a boolean'] },
      { path: 'values.ui.docs.base', messages: ['must be an https URL without credentials'] },
    ]);
    await expect(get()).resolves.toEqual(before);
    const nested = await rejection(put({ values: { 'ui.plugins.enabled': { on: true } } } as never));
    expect(nested.code).toBe(ErrorCode.ValidationFailed);
  });

  it('answers CONFLICT for a stale expectedVersion and saves with the current one', async () => {
    const { version } = await get();

    const error = await rejection(
      put({ values: { 'ui.plugins.enabled': false }, expectedVersion: version - 1 }),
    );
    expect(error.code).toBe(ErrorCode.Conflict);
    expect(error.reason).toBe('version_conflict');
    expect((await get()).version).toBe(version);

    const saved = await put({ values: { 'ui.plugins.enabled': false }, expectedVersion: version });
    expect(saved.version).toBe(version + 1);
    const refused = await waitFor(async () =>
      (await configAudit()).find((item) => item.details?.['reason'] === 'version_conflict'),
    );
    expect(refused).toMatchObject({ outcome: 'failure', details: { currentVersion: version } });
  });

  it('keeps the history newest first with who, why and each key before and after, in pages', async () => {
    const { version } = await get();
    const page = await history({ limit: 2 });

    expect(page.versions.map((item) => item.version)).toEqual([version, version - 1]);
    expect(page.nextBefore).toBe(version - 1);
    const all = await history({}, viewer.token);
    const first = all.versions.at(-1);
    expect(first).toMatchObject({
      version: 1,
      changedBy: `user:${admin.id}`,
      reason: 'pilot',
      changes: [
        { key: 'ui.docs.base', sensitive: false, to: 'https://docs.example.org/' },
        { key: 'ui.plugin_install.enabled', sensitive: false, to: true },
      ],
    });
    expect(all.versions.find((item) => item.version === 2)?.changes).toEqual([
      { key: 'ui.docs.base', sensitive: false, from: 'https://docs.example.org/' },
    ]);
    const rest = await history({ limit: 2, before: page.nextBefore });
    expect(rest.versions[0]?.version).toBe(version - 2);
  });

  it('refuses callers without the traits: a viewer may read but not write; config_manager needs admin', async () => {
    const viewerPut = await rejection(put({ values: { 'ui.plugins.enabled': true } }, viewer.token));
    expect(viewerPut.code).toBe(ErrorCode.PolicyDenied);

    const nobody = await policy.user(['ui.dashboard']);
    expect((await rejection(get(nobody.token))).code).toBe(ErrorCode.PolicyDenied);
    expect((await rejection(history({}, nobody.token))).code).toBe(ErrorCode.PolicyDenied);

    const managerOnly = await policy.user(['config_manager']);
    expect((await rejection(put({ values: { 'ui.plugins.enabled': true } }, managerOnly.token))).code).toBe(
      ErrorCode.PolicyDenied,
    );
    expect((await rejection(policy.client.request(subjects.policy.config.get, {}))).code).toBe(
      ErrorCode.Unauthenticated,
    );
  });

  it('keeps the history append-only in the database', async () => {
    await expect(policy.sql("UPDATE config_versions SET reason = 'rewritten'")).rejects.toThrow(
      /append-only/,
    );
    await expect(policy.sql('DELETE FROM config_changes')).rejects.toThrow(/append-only/);
  });

  describe('a sensitive key', () => {
    beforeAll(async () => {
      // the same database and server, now served by a replica whose catalog has a secret
      await policy.stopReplicas();
      Object.assign(process.env, { [opsPortEnv('policy')]: String(await freePort()) });
      policy.replicas.push(
        await bootstrapService({
          service: 'policy',
          version: '0.0.0-test',
          module: SecretConfigTestModule,
          migrationsDir: join(__dirname, '..', 'migrations'),
        }),
      );
      // its subscriptions reach the server shortly after the start resolves
      await waitFor(async () => 'set' in ((await get().catch(() => undefined))?.values[SECRET_KEY] ?? {}), {
        what: 'the replica with the secret key to answer',
      });
    });

    it('is answered only as "***" with set, never in clear, to anyone', async () => {
      const unset = await get();
      expect(unset.values[SECRET_KEY]).toEqual({ source: 'default', sensitive: true, set: false });

      const saved = await put({ values: { [SECRET_KEY]: SECRET }, reason: 'mail relay' });
      expect(saved.values[SECRET_KEY]).toMatchObject({
        value: '***',
        source: 'set',
        sensitive: true,
        set: true,
      });
      for (const answer of [saved, await get(), await get(viewer.token), await history()]) {
        expect(JSON.stringify(answer)).not.toContain(SECRET);
      }
      expect((await history({ limit: 1 })).versions[0]?.changes).toEqual([
        { key: SECRET_KEY, sensitive: true, to: '***' },
      ]);
    });

    it('is stored sealed, in the current value and in the history, never plain', async () => {
      const [row] = await policy.sql<{ value: unknown; sealed: string | null }>(
        'SELECT value, sealed FROM config_values WHERE key = $1',
        [SECRET_KEY],
      );
      expect(row?.value).toBeNull();
      expect(row?.sealed).toMatch(/^v1\./);
      const changes = await policy.sql<Record<string, unknown>>(
        'SELECT * FROM config_changes WHERE key = $1',
        [SECRET_KEY],
      );
      expect(changes).toHaveLength(1);
      expect(changes[0]?.['new_sealed']).toBe(row?.sealed);
      expect(changes[0]?.['new_value']).toBeNull();
      const everything = await policy.sql<{ dump: string }>(
        `SELECT (SELECT coalesce(string_agg(t::text, ''), '') FROM config_values t) ||
                (SELECT coalesce(string_agg(c::text, ''), '') FROM config_changes c) AS dump`,
      );
      expect(everything[0]?.dump).not.toContain(SECRET);
    });

    it('is never published to vivified_config nor written to the audit trail', async () => {
      const { version } = await get();
      const entry = await waitFor(async () => {
        const held = await published();

        return held?.version === version ? held : false;
      });
      expect(Object.keys(entry.values)).not.toContain(SECRET_KEY);
      const record = await waitFor(async () =>
        (await configAudit()).find((item) => item.details?.['version'] === version),
      );
      expect(record.details).toMatchObject({ keys: [SECRET_KEY], changes: [] });
      expect(JSON.stringify(await configAudit())).not.toContain(SECRET);
    });

    it('goes back to unset with null, the history keeping only "***"', async () => {
      const saved = await put({ values: { [SECRET_KEY]: null } });
      expect(saved.values[SECRET_KEY]).toEqual({ source: 'default', sensitive: true, set: false });
      expect((await history({ limit: 1 })).versions[0]?.changes).toEqual([
        { key: SECRET_KEY, sensitive: true, from: '***' },
      ]);
    });
  });
});
