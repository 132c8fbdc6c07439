import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

/** One stored version of a plugin's config: plain values, and the secret fields sealed apart. */
export interface ConfigVersion {
  version: number;
  config: Record<string, unknown>;
  /** Dotted path → sealed value. */
  secrets: Record<string, string>;
  changedBy: string;
  changedAt: Date;
  reason: string;
}

interface Row {
  version: number;
  config: Record<string, unknown>;
  secrets: Record<string, string>;
  changed_by: string;
  changed_at: Date;
  reason: string;
}

const toVersion = (row: Row): ConfigVersion => ({
  version: row.version,
  config: row.config,
  secrets: row.secrets,
  changedBy: row.changed_by,
  changedAt: row.changed_at,
  reason: row.reason,
});

@Injectable()
export class PluginConfigRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** A version, or the newest one. */
  async get(pluginId: string, version?: number): Promise<ConfigVersion | undefined> {
    const { rows } =
      version === undefined
        ? await this.pool.query<Row>(
            'SELECT * FROM plugin_config_versions WHERE plugin_id = $1 ORDER BY version DESC LIMIT 1',
            [pluginId],
          )
        : await this.pool.query<Row>(
            'SELECT * FROM plugin_config_versions WHERE plugin_id = $1 AND version = $2',
            [pluginId, version],
          );

    return rows[0] ? toVersion(rows[0]) : undefined;
  }

  async history(pluginId: string): Promise<ConfigVersion[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT * FROM plugin_config_versions WHERE plugin_id = $1 ORDER BY version DESC LIMIT 1000',
      [pluginId],
    );

    return rows.map(toVersion);
  }

  /**
   * Appends version `expected + 1`; false when another writer appended first (the caller retries with the new
   * current version), or when the plugin is gone.
   */
  async append(
    pluginId: string,
    expected: number,
    version: Omit<ConfigVersion, 'version'>,
  ): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO plugin_config_versions (plugin_id, version, config, secrets, changed_by, changed_at, reason)
       SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM plugins WHERE id = $1)
       ON CONFLICT (plugin_id, version) DO NOTHING`,
      [
        pluginId,
        expected + 1,
        JSON.stringify(version.config),
        JSON.stringify(version.secrets),
        version.changedBy,
        version.changedAt,
        version.reason,
      ],
    );

    return (rowCount ?? 0) > 0;
  }
}
