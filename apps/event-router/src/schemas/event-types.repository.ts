import { Inject, Injectable } from '@nestjs/common';
import type { Classification, EventFieldSpec } from '@vivified/contracts';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

/** A stored version of a plugin event type. */
export interface EventTypeRow {
  type: string;
  major: number;
  minor: number;
  owner: string;
  classification: Classification[];
  fields: EventFieldSpec[];
  summary: string | null;
  active: boolean;
}

/** SQL of the schema registry (`event_types`). */
@Injectable()
export class EventTypesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async list(): Promise<EventTypeRow[]> {
    const { rows } = await this.pool.query<EventTypeRow>(
      `SELECT type, major, minor, owner, classification, fields, summary, active
         FROM event_types ORDER BY type, major, minor`,
    );

    return rows;
  }

  /** Inserts a version; with `activate`, makes it the active one of its major in the same transaction. */
  async insert(row: EventTypeRow): Promise<'created' | 'exists'> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query(
        `INSERT INTO event_types (type, major, minor, owner, classification, fields, summary, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, false)
         ON CONFLICT (type, major, minor) DO NOTHING`,
        [
          row.type,
          row.major,
          row.minor,
          row.owner,
          row.classification,
          JSON.stringify(row.fields),
          row.summary,
        ],
      );
      if (inserted.rowCount === 0) {
        await client.query('ROLLBACK');

        return 'exists';
      }
      if (row.active) {
        await client.query(
          'UPDATE event_types SET active = false WHERE type = $1 AND major = $2 AND active',
          [row.type, row.major],
        );
        await client.query(
          'UPDATE event_types SET active = true WHERE type = $1 AND major = $2 AND minor = $3',
          [row.type, row.major, row.minor],
        );
      }
      await client.query('COMMIT');

      return 'created';
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
