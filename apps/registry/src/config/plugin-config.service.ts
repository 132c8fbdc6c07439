import { Injectable } from '@nestjs/common';
import type { PluginConfigHistoryReply, PluginConfigSelfReply, PluginConfigView } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { EnvelopeCipher } from '@vivified/crypto';
import type { Principal } from '@vivified/nats-transport';

import { actorOf, PluginAudit } from '../plugins/plugin-audit';
import type { PluginRecord } from '../plugins/plugin-record';
import { PluginsRepository } from '../plugins/plugins.repository';
import { configProblems, secretPaths, setAt, valueAt } from './config-schema';
import type { ConfigVersion } from './plugin-config.repository';
import { PluginConfigRepository } from './plugin-config.repository';

const notFound = () =>
  new VivifiedError(ErrorCode.NotFound, 'plugin not found', { reason: 'plugin_not_found' });

/** The AAD of a sealed secret names the plugin and the field, so a sealed value cannot be moved elsewhere. */
const aad = (pluginId: string, path: string) => `registry.plugin-config:${pluginId}:${path}`;

const APPEND_ATTEMPTS = 5;

/**
 * Plugin config (issue 5): versioned with who, when and why; validated against the manifest's `configSchema`;
 * secret fields sealed with the envelope cipher and kept apart from the plain values. Users never get a secret
 * back (only its name); the plugin itself reads its config with the secrets.
 */
@Injectable()
export class PluginConfigService {
  constructor(
    private readonly plugins: PluginsRepository,
    private readonly repository: PluginConfigRepository,
    private readonly cipher: EnvelopeCipher,
    private readonly audit: PluginAudit,
  ) {}

  async get(pluginId: string, version?: number): Promise<PluginConfigView> {
    await this.plugin(pluginId);
    const stored = await this.repository.get(pluginId, version);
    if (!stored) {
      if (version !== undefined) {
        throw new VivifiedError(ErrorCode.NotFound, 'no such config version', {
          reason: 'config_version_not_found',
        });
      }

      return { pluginId, version: 0, values: {}, secretFields: [] };
    }

    return this.view(pluginId, stored);
  }

  async history(pluginId: string): Promise<PluginConfigHistoryReply> {
    await this.plugin(pluginId);
    const versions = await this.repository.history(pluginId);

    return {
      pluginId,
      versions: versions.map(({ version, changedBy, changedAt, reason }) => ({
        version,
        changedBy,
        changedAt: changedAt.toISOString(),
        reason,
      })),
    };
  }

  async put(
    pluginId: string,
    values: Record<string, unknown>,
    reason: string,
    principal: Principal,
  ): Promise<PluginConfigView> {
    const record = await this.plugin(pluginId);
    const schema = record.manifest.configSchema;
    const secrets = schema ? secretPaths(schema) : [];
    const actor = actorOf(principal);
    for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt += 1) {
      const current = await this.repository.get(pluginId);
      const merged = structuredClone(values);
      for (const path of secrets) {
        const given = valueAt(merged, path);
        if (given === null) {
          setAt(merged, path, undefined);
        } else if (given === undefined && current?.secrets[path] !== undefined) {
          // a secret left out keeps its value (users never see it, so they cannot send it back)
          setAt(
            merged,
            path,
            JSON.parse(await this.cipher.decryptString(current.secrets[path], aad(pluginId, path))),
          );
        }
      }
      const problems = schema ? configProblems(schema, merged) : [];
      if (problems.length > 0) {
        await this.audit.record('plugin.config.update', 'failure', actor, pluginId, {
          reason: 'config_invalid',
          problems: problems.length,
        });
        throw new VivifiedError(
          ErrorCode.ValidationFailed,
          'the config does not match the plugin config schema',
          {
            reason: 'config_invalid',
            details: problems.map(({ path, message }) => ({ path, messages: [message] })),
          },
        );
      }
      const sealed: Record<string, string> = {};
      for (const path of secrets) {
        const value = valueAt(merged, path);
        if (value !== undefined) {
          sealed[path] = await this.cipher.encrypt(JSON.stringify(value), aad(pluginId, path));
          setAt(merged, path, undefined);
        }
      }
      const next: Omit<ConfigVersion, 'version'> = {
        config: merged,
        secrets: sealed,
        changedBy: actor.id,
        changedAt: new Date(),
        reason,
      };
      const expected = current?.version ?? 0;
      if (await this.repository.append(pluginId, expected, next)) {
        await this.audit.record('plugin.config.update', 'success', actor, pluginId, {
          version: expected + 1,
          reason,
          fields: Object.keys(merged).sort(),
          secretFields: Object.keys(sealed).sort(),
        });

        return this.view(pluginId, { ...next, version: expected + 1 });
      }
      await this.plugin(pluginId);
    }
    throw new VivifiedError(ErrorCode.Conflict, 'the config changed meanwhile, try again', {
      reason: 'config_changed',
    });
  }

  /** The plugin's own config with its secrets; only the plugin itself. */
  async self(pluginId: string, principal: Principal): Promise<PluginConfigSelfReply> {
    if (principal.kind !== 'plugin' || principal.id !== pluginId) {
      throw new VivifiedError(ErrorCode.PolicyDenied, 'a plugin reads only its own config', {
        reason: 'not_own_plugin',
      });
    }
    await this.plugin(pluginId);
    const stored = await this.repository.get(pluginId);
    if (!stored) {
      return { pluginId, version: 0, values: {} };
    }
    const values = structuredClone(stored.config);
    for (const [path, sealed] of Object.entries(stored.secrets)) {
      setAt(values, path, JSON.parse(await this.cipher.decryptString(sealed, aad(pluginId, path))));
    }

    return { pluginId, version: stored.version, values };
  }

  private view(pluginId: string, stored: ConfigVersion): PluginConfigView {
    return {
      pluginId,
      version: stored.version,
      values: stored.config,
      secretFields: Object.keys(stored.secrets).sort(),
      changedBy: stored.changedBy,
      changedAt: stored.changedAt.toISOString(),
      reason: stored.reason,
    };
  }

  private async plugin(pluginId: string): Promise<PluginRecord> {
    const record = await this.plugins.get(pluginId);
    if (!record) {
      throw notFound();
    }

    return record;
  }
}
