import { ErrorCode, subjects, VivifiedError } from '@vivified/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RegistryHarness } from './harness';
import { roles, startRegistry } from './harness';
import { aManifest, plain } from './manifests';

const API_KEY = 'sk-live-4f9c2e7a-very-secret';

async function failure(work: Promise<unknown>): Promise<VivifiedError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof VivifiedError)) {
    throw new Error('expected a VivifiedError', { cause: error });
  }

  return error;
}

/** Plugin config: validated, versioned, secrets encrypted at rest, read by the plugin over NATS. */
describe('registry: plugin config', () => {
  let h: RegistryHarness;
  let operator: string;
  let mailerToken: string;

  beforeAll(async () => {
    h = await startRegistry();
    operator = await h.userToken(roles.operator, '00000000-0000-4000-8000-0000000000b0');
    const manifest = aManifest('mailer', (m) => {
      m.configSchema = {
        type: 'object',
        additionalProperties: false,
        required: ['sender', 'smtp'],
        properties: {
          sender: { type: 'string', pattern: '^[^@]+@[^@]+$' },
          smtp: {
            type: 'object',
            required: ['host', 'port'],
            properties: {
              host: { type: 'string', minLength: 1 },
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              password: { type: 'string', writeOnly: true },
            },
          },
          apiKey: { type: 'string', secret: true, minLength: 8 },
        },
      };
    });
    await h.call(subjects.registry.plugins.register, { manifest: plain(manifest) }, operator);
    await h.call(subjects.registry.plugins.register, { manifest: plain(aManifest('nosy')) }, operator);
    mailerToken = await h.authority.token({ kind: 'plugin', id: 'mailer', traits: [] });
  }, 90_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('answers version 0 before any config is set', async () => {
    expect(await h.call(subjects.registry.plugins.config.get, { pluginId: 'mailer' }, operator)).toEqual({
      pluginId: 'mailer',
      version: 0,
      values: {},
      secretFields: [],
    });
  });

  it('refuses a config that does not match the schema, listing every problem', async () => {
    const error = await failure(
      h.call(
        subjects.registry.plugins.config.put,
        {
          pluginId: 'mailer',
          values: { sender: 'nobody', smtp: { host: '', port: 70000 }, extra: 1 },
          reason: 'x',
        },
        operator,
      ),
    );

    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.details?.map((detail) => detail.path).sort()).toEqual([
      'extra',
      'sender',
      'smtp.host',
      'smtp.port',
    ]);
  });

  it('stores secrets sealed apart from the values, and never answers them to users', async () => {
    const view = await h.call(
      subjects.registry.plugins.config.put,
      {
        pluginId: 'mailer',
        values: {
          sender: 'noreply@example.org',
          smtp: { host: 'smtp.example.org', port: 587, password: 'smtp-pass-123' },
          apiKey: API_KEY,
        },
        reason: 'initial setup',
      },
      operator,
    );

    expect(view).toMatchObject({
      version: 1,
      values: { sender: 'noreply@example.org', smtp: { host: 'smtp.example.org', port: 587 } },
      secretFields: ['apiKey', 'smtp.password'],
      changedBy: 'user:00000000-0000-4000-8000-0000000000b0',
      reason: 'initial setup',
    });
    const rows = await h.sql<{ config: unknown; secrets: Record<string, string> }>(
      'SELECT config, secrets FROM registry.plugin_config_versions WHERE plugin_id = $1',
      ['mailer'],
    );
    const raw = JSON.stringify(rows);
    expect(raw).not.toContain(API_KEY);
    expect(raw).not.toContain('smtp-pass-123');
    expect(Object.keys(rows[0]?.secrets ?? {}).sort()).toEqual(['apiKey', 'smtp.password']);
    const read = JSON.stringify(
      await h.call(subjects.registry.plugins.config.get, { pluginId: 'mailer' }, operator),
    );
    expect(read).not.toContain(API_KEY);
    expect(read).not.toContain('smtp-pass-123');
  });

  it('keeps a secret left out of a new version, clears one sent as null, and keeps the history', async () => {
    const view = await h.call(
      subjects.registry.plugins.config.put,
      {
        pluginId: 'mailer',
        values: {
          sender: 'alerts@example.org',
          smtp: { host: 'smtp.example.org', port: 465, password: null },
        },
        reason: 'new sender, no SMTP password',
      },
      operator,
    );

    expect(view).toMatchObject({ version: 2, secretFields: ['apiKey'] });
    const history = await h.call(subjects.registry.plugins.config.history, { pluginId: 'mailer' }, operator);
    expect(history.versions.map(({ version, reason }) => [version, reason])).toEqual([
      [2, 'new sender, no SMTP password'],
      [1, 'initial setup'],
    ]);
    const first = await h.call(
      subjects.registry.plugins.config.get,
      { pluginId: 'mailer', version: 1 },
      operator,
    );
    expect(first.values).toMatchObject({ sender: 'noreply@example.org' });
  });

  it('lets the plugin read its own config with its secrets over NATS, and nobody else', async () => {
    const own = await h.call(subjects.registry.plugins.config.self, { pluginId: 'mailer' }, mailerToken);

    expect(own).toEqual({
      pluginId: 'mailer',
      version: 2,
      values: {
        sender: 'alerts@example.org',
        smtp: { host: 'smtp.example.org', port: 465 },
        apiKey: API_KEY,
      },
    });
    const nosy = await h.authority.token({ kind: 'plugin', id: 'nosy', traits: [] });
    expect(
      (await failure(h.call(subjects.registry.plugins.config.self, { pluginId: 'mailer' }, nosy))).code,
    ).toBe(ErrorCode.PolicyDenied);
    expect(
      (await failure(h.call(subjects.registry.plugins.config.self, { pluginId: 'mailer' }, operator))).code,
    ).toBe(ErrorCode.PolicyDenied);
  });

  it('refuses a disabled plugin reading its config', async () => {
    await h.call(subjects.registry.plugins.disable, { pluginId: 'mailer' }, operator);

    const error = await failure(
      h.call(subjects.registry.plugins.config.self, { pluginId: 'mailer' }, mailerToken),
    );
    expect(error.code).toBe(ErrorCode.PluginInactive);
  });
});
