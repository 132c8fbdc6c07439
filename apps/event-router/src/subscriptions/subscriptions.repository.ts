import { Inject, Injectable } from '@nestjs/common';
import type { SubscriptionState } from '@vivified/contracts';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

/** A stored subscription. */
export interface SubscriptionRow {
  id: string;
  pluginId: string;
  eventType: string;
  origin: 'manifest' | 'api';
  state: SubscriptionState;
  maxAckPending: number;
  createdAt: string;
}

interface Raw {
  id: string;
  plugin_id: string;
  event_type: string;
  origin: 'manifest' | 'api';
  state: SubscriptionState;
  max_ack_pending: number;
  created_at: Date;
}

const COLUMNS = 'id, plugin_id, event_type, origin, state, max_ack_pending, created_at';

function rowOf(raw: Raw): SubscriptionRow {
  return {
    id: raw.id,
    pluginId: raw.plugin_id,
    eventType: raw.event_type,
    origin: raw.origin,
    state: raw.state,
    maxAckPending: raw.max_ack_pending,
    createdAt: raw.created_at.toISOString(),
  };
}

/** SQL of `subscriptions`. */
@Injectable()
export class SubscriptionsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async all(): Promise<SubscriptionRow[]> {
    const { rows } = await this.pool.query<Raw>(
      `SELECT ${COLUMNS} FROM subscriptions ORDER BY created_at, id`,
    );

    return rows.map(rowOf);
  }

  async byPlugin(pluginId: string): Promise<SubscriptionRow[]> {
    const { rows } = await this.pool.query<Raw>(
      `SELECT ${COLUMNS} FROM subscriptions WHERE plugin_id = $1 ORDER BY event_type`,
      [pluginId],
    );

    return rows.map(rowOf);
  }

  async get(id: string): Promise<SubscriptionRow | undefined> {
    const { rows } = await this.pool.query<Raw>(`SELECT ${COLUMNS} FROM subscriptions WHERE id = $1`, [id]);

    return rows[0] ? rowOf(rows[0]) : undefined;
  }

  /** Inserts a subscription unless the plugin already has one for the type; answers the stored row. */
  async upsert(row: Omit<SubscriptionRow, 'createdAt' | 'state'>): Promise<SubscriptionRow> {
    await this.pool.query(
      `INSERT INTO subscriptions (id, plugin_id, event_type, origin, max_ack_pending)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plugin_id, event_type) DO NOTHING`,
      [row.id, row.pluginId, row.eventType, row.origin, row.maxAckPending],
    );
    const { rows } = await this.pool.query<Raw>(
      `SELECT ${COLUMNS} FROM subscriptions WHERE plugin_id = $1 AND event_type = $2`,
      [row.pluginId, row.eventType],
    );

    return rowOf(rows[0]);
  }

  /** Deletes one plugin's subscriptions to the given types (never another plugin's); answers the deleted rows. */
  async deleteOwn(pluginId: string, eventTypes: readonly string[]): Promise<SubscriptionRow[]> {
    const { rows } = await this.pool.query<Raw>(
      `DELETE FROM subscriptions WHERE plugin_id = $1 AND event_type = ANY($2::text[]) RETURNING ${COLUMNS}`,
      [pluginId, eventTypes],
    );

    return rows.map(rowOf);
  }

  /** Deletes every subscription of a plugin (revoked). */
  async deletePlugin(pluginId: string): Promise<SubscriptionRow[]> {
    const { rows } = await this.pool.query<Raw>(
      `DELETE FROM subscriptions WHERE plugin_id = $1 RETURNING ${COLUMNS}`,
      [pluginId],
    );

    return rows.map(rowOf);
  }

  async setState(id: string, state: SubscriptionState): Promise<void> {
    await this.pool.query('UPDATE subscriptions SET state = $2 WHERE id = $1', [id, state]);
  }
}
