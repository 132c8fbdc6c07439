import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool, PoolClient } from 'pg';

const LEASE_KEY = "hashtextextended('vivified.registry.health-poll:' || $1, 0)";

/**
 * Which registry replica polls a plugin: the one holding its PostgreSQL session advisory lock
 * (`pg_try_advisory_lock`) on a connection this replica keeps for the purpose. Ownership is sticky: the holder
 * polls until the plugin stops being polled or the replica dies (its connection closes and the lock with it);
 * another replica takes over at its next attempt. One query per plugin while the lock is not yet held, none
 * after.
 */
@Injectable()
export class PluginHealthLeases {
  private client: PoolClient | undefined;
  private connecting: Promise<PoolClient> | undefined;
  private readonly held = new Set<string>();

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Whether this replica polls the plugin (true when it holds the lease or just took it). */
  async acquire(pluginId: string): Promise<boolean> {
    if (this.held.has(pluginId)) {
      return true;
    }
    const client = await this.connection();
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LEASE_KEY}) AS ok`, [
      pluginId,
    ]);
    if (rows[0]?.ok === true) {
      this.held.add(pluginId);

      return true;
    }

    return false;
  }

  /** Gives a plugin's lease back (it is no longer polled here). */
  async release(pluginId: string): Promise<void> {
    if (!this.held.delete(pluginId) || this.client === undefined) {
      return;
    }
    await this.client.query(`SELECT pg_advisory_unlock(${LEASE_KEY})`, [pluginId]).catch(() => undefined);
  }

  /** Releases every lease: the connection is closed, not returned to the pool with locks on it. */
  close(): void {
    this.held.clear();
    this.client?.release(true);
    this.client = undefined;
  }

  private async connection(): Promise<PoolClient> {
    if (this.client) {
      return this.client;
    }
    this.connecting ??= this.pool.connect().then(
      (client) => {
        client.on('error', () => {
          // a broken connection has lost its locks: forget them, reconnect at the next acquire
          if (this.client === client) {
            this.held.clear();
            this.client = undefined;
            client.release(true);
          }
        });
        this.client = client;
        this.connecting = undefined;

        return client;
      },
      (error: unknown) => {
        this.connecting = undefined;
        throw error;
      },
    );

    return this.connecting;
  }
}
