import { connect } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, isListening, startNatsServer } from '@vivified/testing';

describe('test harness', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
  });

  afterAll(async () => {
    await Promise.all([nats?.stop(), db?.drop()]);
  });

  it('starts a nats-server with JetStream on its own port and store', async () => {
    const nc = await connect({ servers: nats.url });
    const info = await (await nc.jetstreamManager()).getAccountInfo();
    expect(info.streams).toBe(0);
    await nc.close();
  });

  it('restarts the server on the same port after a kill', async () => {
    await nats.kill();
    expect(await isListening(nats.port)).toBe(false);
    await nats.start();
    expect(await isListening(nats.port)).toBe(true);
  });

  it('creates a throwaway database that it drops after', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>('select current_database() as name');
    await client.end();
    expect(rows[0]?.name).toBe(db.name);
    const other = await createTestDatabase();
    await other.drop();
    const check = new Client({ connectionString: db.url.replace(db.name, 'postgres') });
    await check.connect();
    const { rowCount } = await check.query('select 1 from pg_database where datname = $1', [other.name]);
    await check.end();
    expect(rowCount).toBe(0);
  });
});
