import { Client } from 'pg';

import { uniqueName } from './wait';

/** A database a test created for itself. */
export interface TestDatabase {
  /** Connection string of the new database. */
  readonly url: string;
  readonly name: string;
  /** Drops it, closing any connection still open. */
  drop(): Promise<void>;
}

/** The server tests use: `VIVIFIED_TEST_DATABASE_URL`, or the local one. */
export function testServerUrl(): string {
  return process.env['VIVIFIED_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

async function admin<T>(run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Creates a throwaway database with a name unique to the run. */
export async function createTestDatabase(prefix = 'vivified_test'): Promise<TestDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;

  return {
    url: url.toString(),
    name,
    drop: async () => {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
