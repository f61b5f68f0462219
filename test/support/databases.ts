import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../../src/infra/db/client.js';
import { migrateToLatest } from '../../src/infra/db/migrate.js';

export type EngineName = 'sqlite' | 'postgres';

/** The engines this run tests: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const ENGINES: EngineName[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

if (!process.env.TEST_DATABASE_URL && !process.env.AIHUB_QUIET_SKIPS) {
  process.env.AIHUB_QUIET_SKIPS = '1';
  console.warn('[skip] PostgreSQL tests skipped: set TEST_DATABASE_URL=postgres://… to run them');
}

export interface TestDatabase {
  handle: DatabaseHandle;
  dataDir: string;
  /** The DATABASE_URL a child process would use (undefined → SQLite in dataDir). */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated, private database: a temp SQLite file, or a new PostgreSQL database dropped afterwards.
 * `migrate: false` leaves it empty, as a first start finds it.
 */
export async function createTestDatabase(
  engine: EngineName,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  const dataDir = mkdtempSync(join(tmpdir(), 'aihub-test-'));
  if (engine === 'sqlite') {
    const handle = openDatabase({ url: undefined, dataDir });
    if (migrate) await migrateToLatest(handle.db);
    return {
      handle,
      dataDir,
      url: undefined,
      drop: async () => {
        await handle.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const adminUrl = process.env.TEST_DATABASE_URL as string;
  const name = `aihub_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = openDatabase({ url: url.toString(), dataDir, poolSize: 4 });
  if (migrate) await migrateToLatest(handle.db);
  return {
    handle,
    dataDir,
    url: url.toString(),
    drop: async () => {
      await handle.close();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
