import type { PluginStatus, PluginStatusEntry } from '@vivified/contracts';
import { buckets, ErrorCode, subjects, tokenContract, VivifiedError } from '@vivified/contracts';
import { ensureBucket } from '@vivified/nats-transport';
import type { KV } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TokensHarness } from './tokens-fixtures';
import { startTokens } from './tokens-fixtures';

const DAY = 24 * 60 * 60 * 1000;

async function refusal(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

describe('identity tokens: plugin, service and API-key tokens', () => {
  let identity: TokensHarness;
  let plugins: KV;
  let serviceToken: string;

  beforeAll(async () => {
    identity = await startTokens();
    // the registry owns this bucket; it is not running here
    plugins = await ensureBucket(identity.nc, buckets.plugins);
    ({ accessToken: serviceToken } = await identity.client.request(subjects.identity.tokens.service, {
      service: 'registry',
      secret: identity.env['VIVIFIED_SERVICE_SECRET'] ?? '',
    }));
  });

  afterAll(async () => {
    await identity?.stop();
  });

  const setStatus = async (id: string, status: PluginStatus, traits: string[]) => {
    const entry: PluginStatusEntry = {
      id,
      status,
      traits,
      version: '1.0.0',
      manifestDigest: 'a'.repeat(64),
      updatedAt: new Date().toISOString(),
    };
    await plugins.put(id, JSON.stringify(entry));
  };

  const userToken = async (roles: string[]) => {
    const user = await identity.createUser(roles);
    const pair = await identity.issuer.startSession(user, { method: 'password' });

    return { user, token: pair.accessToken };
  };

  describe('service tokens', () => {
    it('exchanges the service secret for a 1 h service token with system_core', async () => {
      const { payload } = await identity.verifyWithBucket(serviceToken);

      expect(payload).toMatchObject({ sub: 'service:registry', typ: 'service', traits: ['system_core'] });
      expect(payload.exp - payload.iat).toBe(tokenContract.lifetimes.service);
      expect(payload.roles).toBeUndefined();
      expect(payload.sid).toBeUndefined();
    });

    it('refuses a wrong service secret', async () => {
      const error = await refusal(
        identity.client.request(subjects.identity.tokens.service, {
          service: 'gateway',
          secret: 'x'.repeat(43),
        }),
      );

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.message).toBe('invalid credentials');
    });
  });

  describe('plugin credentials and plugin tokens', () => {
    it('issues a secret to core services only, and exchanges it for a plugin token with its traits', async () => {
      const { token: user } = await userToken(['admin']);
      const denied = await refusal(
        identity.client.request(
          subjects.identity.pluginCredentials.issue,
          { pluginId: 'acme-crm' },
          { token: user },
        ),
      );
      expect(denied.code).toBe(ErrorCode.PolicyDenied);

      const credential = await identity.client.request(
        subjects.identity.pluginCredentials.issue,
        { pluginId: 'acme-crm' },
        { token: serviceToken },
      );
      expect(credential.pluginId).toBe('acme-crm');
      expect(credential.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const [row] = await identity.sql<{ secret_hash: string }>(
        `SELECT secret_hash FROM plugin_credentials WHERE plugin_id = 'acme-crm'`,
      );
      expect(row?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row?.secret_hash).not.toContain(credential.clientSecret);

      await setStatus('acme-crm', 'active', ['handles_pii', 'audit_required']);
      const issued = await identity.client.request(subjects.identity.tokens.plugin, {
        pluginId: 'acme-crm',
        clientSecret: credential.clientSecret,
      });

      expect(issued.expiresIn).toBe(tokenContract.lifetimes.plugin);
      const { payload } = await identity.verifyWithBucket(issued.accessToken);
      expect(payload).toMatchObject({
        sub: 'plugin:acme-crm',
        typ: 'plugin',
        traits: ['handles_pii', 'audit_required'],
      });
      expect(payload.exp - payload.iat).toBe(tokenContract.lifetimes.plugin);
    });

    it('answers a bad secret and an unknown plugin the same way', async () => {
      const { clientSecret } = await identity.client.request(
        subjects.identity.pluginCredentials.issue,
        { pluginId: 'acme-mail' },
        { token: serviceToken },
      );
      await setStatus('acme-mail', 'active', []);

      const wrong = await refusal(
        identity.client.request(subjects.identity.tokens.plugin, {
          pluginId: 'acme-mail',
          clientSecret: `${clientSecret.slice(0, -1)}${clientSecret.endsWith('A') ? 'B' : 'A'}`,
        }),
      );
      const unknown = await refusal(
        identity.client.request(subjects.identity.tokens.plugin, { pluginId: 'nobody-here', clientSecret }),
      );

      for (const error of [wrong, unknown]) {
        expect(error.code).toBe(ErrorCode.Unauthenticated);
        expect(error.message).toBe('invalid credentials');
        expect(error.reason).toBe('invalid_credentials');
      }
    });

    it('refuses a plugin that is not active, even with the right secret', async () => {
      const { clientSecret } = await identity.client.request(
        subjects.identity.pluginCredentials.issue,
        { pluginId: 'acme-fax' },
        { token: serviceToken },
      );
      const request = () =>
        identity.client.request(subjects.identity.tokens.plugin, { pluginId: 'acme-fax', clientSecret });

      // no entry in the registry's bucket yet
      expect((await refusal(request())).code).toBe(ErrorCode.PluginInactive);
      await setStatus('acme-fax', 'disabled', ['handles_pii']);
      const disabled = await refusal(request());
      expect(disabled.code).toBe(ErrorCode.PluginInactive);
      expect(disabled.reason).toBe('plugin_disabled');
      await setStatus('acme-fax', 'active', ['handles_pii']);
      await expect(request()).resolves.toMatchObject({ tokenType: 'Bearer' });
    });

    it('revokes and replaces a secret', async () => {
      const first = await identity.client.request(
        subjects.identity.pluginCredentials.issue,
        { pluginId: 'acme-sms' },
        { token: serviceToken },
      );
      await setStatus('acme-sms', 'active', []);
      const second = await identity.client.request(
        subjects.identity.pluginCredentials.issue,
        { pluginId: 'acme-sms' },
        { token: serviceToken },
      );
      const exchange = (clientSecret: string) =>
        identity.client.request(subjects.identity.tokens.plugin, { pluginId: 'acme-sms', clientSecret });

      expect((await refusal(exchange(first.clientSecret))).code).toBe(ErrorCode.Unauthenticated);
      await expect(exchange(second.clientSecret)).resolves.toBeDefined();
      await expect(
        identity.client.request(
          subjects.identity.pluginCredentials.revoke,
          { pluginId: 'acme-sms' },
          { token: serviceToken },
        ),
      ).resolves.toEqual({ pluginId: 'acme-sms', revoked: true });
      expect((await refusal(exchange(second.clientSecret))).message).toBe('invalid credentials');
    });
  });

  describe('API keys', () => {
    it('creates a key, exchanges it for a token narrowed to its scopes, lists it without the key, revokes it', async () => {
      const { user, token } = await userToken(['operator', 'pii_handler']);
      const created = await identity.client.request(
        subjects.identity.apiKeys.create,
        { name: 'ci', scopes: ['viewer', 'handles_pii'] },
        { token },
      );

      expect(created.apiKey).toMatch(/^viv_[A-Za-z0-9_-]{43}$/);
      expect(created.scopes).toEqual(['viewer', 'handles_pii']);
      const days = (Date.parse(created.expiresAt) - identity.clock.now().getTime()) / DAY;
      expect(days).toBeGreaterThan(89.9);
      expect(days).toBeLessThanOrEqual(90);

      const exchanged = await identity.client.request(subjects.identity.tokens.apiKey, {
        apiKey: created.apiKey,
      });
      const { payload } = await identity.verifyWithBucket(exchanged.accessToken);
      expect(payload).toMatchObject({
        sub: `user:${user.id}`,
        typ: 'user',
        amr: [tokenContract.apiKeyMethod],
      });
      expect([...payload.traits].sort()).toEqual(['handles_pii', 'viewer']);
      expect(payload.roles).toBeUndefined();
      expect(payload.sid).toBeUndefined();
      expect(payload.exp - payload.iat).toBe(tokenContract.lifetimes.userAccess);

      const listed = await identity.client.request(subjects.identity.apiKeys.list, {}, { token });
      expect(listed.keys).toHaveLength(1);
      expect(listed.keys[0]).toMatchObject({ id: created.id, name: 'ci', scopes: ['viewer', 'handles_pii'] });
      expect(listed.keys[0]?.lastUsedAt).toBeDefined();
      expect(JSON.stringify(listed)).not.toContain(created.apiKey);

      await expect(
        identity.client.request(subjects.identity.apiKeys.revoke, { id: created.id }, { token }),
      ).resolves.toEqual({});
      const revoked = await refusal(
        identity.client.request(subjects.identity.tokens.apiKey, { apiKey: created.apiKey }),
      );
      expect(revoked.code).toBe(ErrorCode.Unauthenticated);
      expect(revoked.reason).toBe('api_key_revoked');
    });

    it('lets an API-key token list keys and read the profile, and refuses it to create or revoke keys', async () => {
      const { user, token } = await userToken(['operator']);
      const created = await identity.client.request(
        subjects.identity.apiKeys.create,
        { name: 'pipeline', scopes: ['viewer'] },
        { token },
      );
      const { accessToken: keyToken } = await identity.client.request(subjects.identity.tokens.apiKey, {
        apiKey: created.apiKey,
      });
      const keysNow = async () =>
        (await identity.client.request(subjects.identity.apiKeys.list, {}, { token })).keys.map(
          ({ id, revokedAt }) => ({ id, revoked: revokedAt !== undefined }),
        );
      const before = await keysNow();

      const createDenied = await refusal(
        identity.client.request(
          subjects.identity.apiKeys.create,
          { name: 'persistence', scopes: ['viewer'] },
          { token: keyToken },
        ),
      );
      const revokeDenied = await refusal(
        identity.client.request(subjects.identity.apiKeys.revoke, { id: created.id }, { token: keyToken }),
      );

      for (const denied of [createDenied, revokeDenied]) {
        expect(denied.code).toBe(ErrorCode.PolicyDenied);
        expect(denied.reason).toBe('interactive_session_required');
      }
      expect(await keysNow()).toEqual(before);
      expect(before).toEqual([{ id: created.id, revoked: false }]);
      // reading is ordinary use: the key's token lists the keys and reads the profile
      const listed = await identity.client.request(subjects.identity.apiKeys.list, {}, { token: keyToken });
      expect(listed.keys.map((key) => key.id)).toEqual([created.id]);
      await expect(
        identity.client.request(subjects.identity.auth.me, {}, { token: keyToken }),
      ).resolves.toMatchObject({ id: user.id });
      // the session's token does both
      const second = await identity.client.request(
        subjects.identity.apiKeys.create,
        { name: 'second', scopes: ['viewer'] },
        { token },
      );
      await expect(
        identity.client.request(subjects.identity.apiKeys.revoke, { id: second.id }, { token }),
      ).resolves.toEqual({});
      const records = await identity.auditRecords();
      expect(
        records
          .filter((record) => record.target === `user:${user.id}` && record.outcome === 'denied')
          .map((record) => [record.action, record.details?.['reason']]),
      ).toEqual([
        ['api_key.create', 'interactive_session_required'],
        ['api_key.revoke', 'interactive_session_required'],
      ]);
    });

    it('gives no token for a key while its owner must change the password, and again once it is changed', async () => {
      const { user, token } = await userToken(['operator']);
      const created = await identity.client.request(
        subjects.identity.apiKeys.create,
        { name: 'deploy', scopes: ['viewer'] },
        { token },
      );
      await identity.sql('UPDATE users SET must_change_password = true WHERE id = $1', [user.id]);

      const flagged = await refusal(
        identity.client.request(subjects.identity.tokens.apiKey, { apiKey: created.apiKey }),
      );
      expect(flagged.code).toBe(ErrorCode.Unauthenticated);
      expect(flagged.reason).toBe('password_change_required');

      await identity.sql('UPDATE users SET must_change_password = false WHERE id = $1', [user.id]);
      const exchanged = await identity.client.request(subjects.identity.tokens.apiKey, {
        apiKey: created.apiKey,
      });
      expect(exchanged.accessToken).toEqual(expect.any(String));
    });

    it('refuses scopes the owner does not hold and keys of another user', async () => {
      const { token } = await userToken(['viewer']);
      const other = await userToken(['viewer']);

      const widened = await refusal(
        identity.client.request(
          subjects.identity.apiKeys.create,
          { name: 'x', scopes: ['admin'] },
          { token },
        ),
      );
      expect(widened.code).toBe(ErrorCode.PolicyDenied);
      expect(widened.reason).toBe('scope_not_held');

      const tooLong = await refusal(
        identity.client.request(
          subjects.identity.apiKeys.create,
          { name: 'x', scopes: ['viewer'], expiresInDays: 366 },
          { token },
        ),
      );
      expect(tooLong.code).toBe(ErrorCode.ValidationFailed);

      const { id } = await identity.client.request(
        subjects.identity.apiKeys.create,
        { name: 'mine', scopes: ['viewer'] },
        { token },
      );
      const foreign = await refusal(
        identity.client.request(subjects.identity.apiKeys.revoke, { id }, { token: other.token }),
      );
      expect(foreign.code).toBe(ErrorCode.NotFound);
    });

    it('refuses a made-up key and the key of a deactivated owner', async () => {
      const { user, token } = await userToken(['viewer']);
      const { apiKey } = await identity.client.request(
        subjects.identity.apiKeys.create,
        { name: 'ops', scopes: ['viewer'] },
        { token },
      );

      const madeUp = await refusal(
        identity.client.request(subjects.identity.tokens.apiKey, { apiKey: 'viv_nope' }),
      );
      expect(madeUp.reason).toBe('api_key_invalid');
      await identity.deactivate(user.id);
      const inactive = await refusal(identity.client.request(subjects.identity.tokens.apiKey, { apiKey }));
      expect(inactive.code).toBe(ErrorCode.Unauthenticated);
      expect(inactive.message).toBe('invalid API key');
    });

    it('audits every credential event, never with a secret, key or token in it', async () => {
      const { clientSecret } = await identity.client.request(
        subjects.identity.pluginCredentials.issue,
        { pluginId: 'acme-audit' },
        { token: serviceToken },
      );
      await setStatus('acme-audit', 'active', ['audit_required']);
      const plugin = await identity.client.request(subjects.identity.tokens.plugin, {
        pluginId: 'acme-audit',
        clientSecret,
      });
      const { user, token } = await userToken(['viewer']);
      const key = await identity.client.request(
        subjects.identity.apiKeys.create,
        { name: 'audited', scopes: ['viewer'] },
        { token },
      );
      const exchanged = await identity.client.request(subjects.identity.tokens.apiKey, {
        apiKey: key.apiKey,
      });
      await identity.client.request(subjects.identity.apiKeys.revoke, { id: key.id }, { token });
      await identity.client.request(
        subjects.identity.pluginCredentials.revoke,
        { pluginId: 'acme-audit' },
        { token: serviceToken },
      );

      const records = await identity.auditRecords();
      const about = (target: string) => records.filter((record) => record.target === target);
      expect(
        about('plugin:acme-audit').map((record) => `${record.category}/${record.action}/${record.outcome}`),
      ).toEqual([
        'plugin/plugin_credential.issue/success',
        'auth/token.plugin/success',
        'plugin/plugin_credential.revoke/success',
      ]);
      expect(about(`api-key:${key.id}`).map((record) => record.action)).toEqual([
        'api_key.create',
        'api_key.use',
        'api_key.revoke',
      ]);
      expect(about(`api-key:${key.id}`).every((record) => record.actor.id === `user:${user.id}`)).toBe(true);
      expect(
        records.some((record) => record.action === 'token.service' && record.outcome === 'success'),
      ).toBe(true);
      expect(records.some((record) => record.action === 'token.service' && record.outcome === 'denied')).toBe(
        true,
      );
      const trail = JSON.stringify(records);
      for (const secret of [
        clientSecret,
        plugin.accessToken,
        key.apiKey,
        exchanged.accessToken,
        token,
        serviceToken,
        identity.env['VIVIFIED_SERVICE_SECRET'] ?? '',
      ]) {
        expect(trail).not.toContain(secret);
      }
    });

    // last: it moves identity's clock past tokens the guard (on real time) would still check
    it('refuses an expired key', async () => {
      const { token } = await userToken(['viewer']);
      const { apiKey } = await identity.client.request(
        subjects.identity.apiKeys.create,
        { name: 'short', scopes: ['viewer'], expiresInDays: 1 },
        { token },
      );
      await expect(
        identity.client.request(subjects.identity.tokens.apiKey, { apiKey }),
      ).resolves.toBeDefined();

      identity.clock.advance(DAY + 1000);
      const expired = await refusal(identity.client.request(subjects.identity.tokens.apiKey, { apiKey }));

      expect(expired.code).toBe(ErrorCode.Unauthenticated);
      expect(expired.reason).toBe('api_key_expired');
    });
  });
});
