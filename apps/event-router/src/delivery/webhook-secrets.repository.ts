import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

/** SQL of `webhook_secrets` (sealed values only). */
@Injectable()
export class WebhookSecretsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async get(pluginId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ sealed: string }>(
      'SELECT sealed FROM webhook_secrets WHERE plugin_id = $1',
      [pluginId],
    );

    return rows[0]?.sealed;
  }

  /** Stores a sealed secret unless one exists; answers the stored one (another replica may have won). */
  async insert(pluginId: string, sealed: string): Promise<string> {
    await this.pool.query(
      'INSERT INTO webhook_secrets (plugin_id, sealed) VALUES ($1, $2) ON CONFLICT (plugin_id) DO NOTHING',
      [pluginId, sealed],
    );

    return (await this.get(pluginId)) ?? sealed;
  }

  async delete(pluginId: string): Promise<void> {
    await this.pool.query('DELETE FROM webhook_secrets WHERE plugin_id = $1', [pluginId]);
  }
}
