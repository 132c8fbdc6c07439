import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestDatabase } from '@vivified/testing';
import { createTestDatabase, testServerUrl, uniqueName } from '@vivified/testing';

import {
  MigrationError,
  createPool,
  ensureDatabase,
  postgresReadinessCheck,
  runMigrations,
} from '../src/database';

describe('database (PostgreSQL)', () => {
  let db: TestDatabase;
  let dir: string;
  const pools: Pool[] = [];

  const pool = (schema: string) => {
    const created = createPool({ url: db.url, schema, applicationName: 'service-kit-int', max: 2 });
    pools.push(created);

    return created;
  };

  async function migrationsDir(files: Record<string, string>): Promise<string> {
    const folder = await mkdtemp(join(dir, 'm-'));
    await Promise.all(Object.entries(files).map(([file, sql]) => writeFile(join(folder, file), sql)));

    return folder;
  }

  const base = {
    '0001_create_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);',
    '0002_seed_items.sql': "SELECT pg_sleep(0.2); INSERT INTO items (name) VALUES ('first');",
  };

  beforeAll(async () => {
    [db, dir] = await Promise.all([
      createTestDatabase(),
      mkdtemp(join(tmpdir(), 'vivified-int-migrations-')),
    ]);
  });

  afterAll(async () => {
    await Promise.all(pools.map((created) => created.end()));
    await Promise.all([db?.drop(), rm(dir, { recursive: true, force: true })]);
  });

  it('applies migrations once into the service schema, and a re-run is a no-op', async () => {
    const folder = await migrationsDir(base);
    const sut = pool('inventory');

    const first = await runMigrations(sut, { schema: 'inventory', dir: folder });
    const second = await runMigrations(sut, { schema: 'inventory', dir: folder });

    expect(first).toEqual(['0001_create_items.sql', '0002_seed_items.sql']);
    expect(second).toEqual([]);
    const { rows } = await sut.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM inventory.schema_migrations ORDER BY version',
    );
    expect(rows.map(({ version, name }) => ({ version, name }))).toEqual([
      { version: 1, name: 'create_items' },
      { version: 2, name: 'seed_items' },
    ]);
    expect(rows[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect((await sut.query('SELECT name FROM items')).rows).toEqual([{ name: 'first' }]);
    await expect(postgresReadinessCheck(sut)()).resolves.toEqual({ ok: true });
  });

  it('lets two concurrent runners apply each migration exactly once', async () => {
    const folder = await migrationsDir(base);

    const [a, b] = await Promise.all([
      runMigrations(pool('race'), { schema: 'race', dir: folder }),
      runMigrations(pool('race'), { schema: 'race', dir: folder }),
    ]);

    expect([...a, ...b].sort()).toEqual(['0001_create_items.sql', '0002_seed_items.sql']);
    expect((await pool('race').query('SELECT count(*)::int AS n FROM race.items')).rows).toEqual([{ n: 1 }]);
  });

  it('refuses to start when an applied migration was changed', async () => {
    const folder = await migrationsDir(base);
    const sut = pool('changed');
    await runMigrations(sut, { schema: 'changed', dir: folder });
    await writeFile(join(folder, '0001_create_items.sql'), 'CREATE TABLE items (id bigserial PRIMARY KEY);');

    const run = runMigrations(sut, { schema: 'changed', dir: folder });

    await expect(run).rejects.toThrow(MigrationError);
    await expect(run).rejects.toThrow(
      'migration 0001_create_items.sql was changed after it was applied to schema changed',
    );
  });

  it('rolls a failing migration back entirely and does not record it', async () => {
    const folder = await migrationsDir({
      ...base,
      '0003_broken.sql': 'CREATE TABLE half (a int); SELECT no_such_column FROM items;',
    });
    const sut = pool('broken');

    await expect(runMigrations(sut, { schema: 'broken', dir: folder })).rejects.toThrow(
      'migration 0003_broken.sql failed in schema broken',
    );

    const { rows } = await sut.query('SELECT version FROM broken.schema_migrations ORDER BY version');
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
    expect((await sut.query("SELECT to_regclass('broken.half') AS t")).rows).toEqual([{ t: null }]);
  });

  describe(ensureDatabase.name, () => {
    const created: string[] = [];
    const urlOf = (name: string) => {
      const url = new URL(testServerUrl());
      url.pathname = `/${name}`;

      return url.toString();
    };

    afterAll(async () => {
      const admin = new Client({ connectionString: testServerUrl() });
      await admin.connect();
      for (const name of created) {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }
      await admin.end();
    });

    it('creates a missing database once, and two racing callers both succeed', async () => {
      const single = uniqueName('vivified_ensure').toLowerCase();
      const raced = uniqueName('vivified_race').toLowerCase();
      created.push(single, raced);

      const first = await ensureDatabase(urlOf(single));
      const again = await ensureDatabase(urlOf(single));
      const race = await Promise.all([ensureDatabase(urlOf(raced)), ensureDatabase(urlOf(raced))]);

      expect([first, again]).toEqual([true, false]);
      expect(race.filter(Boolean)).toHaveLength(1);
      const client = new Client({ connectionString: urlOf(raced) });
      await client.connect();
      expect((await client.query('SELECT current_database() AS name')).rows).toEqual([{ name: raced }]);
      await client.end();
    });
  });
});
