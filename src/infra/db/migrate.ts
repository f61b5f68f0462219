import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as m0001 from './migrations/0001_foundation.js';
import * as m0002 from './migrations/0002_gateway.js';
import * as m0003 from './migrations/0003_routing.js';
import * as m0004 from './migrations/0004_limits.js';
import * as m0005 from './migrations/0005_ip_rules.js';
import * as m0006 from './migrations/0006_partial_team_index.js';
import type { Database } from './schema.js';

/** Numbered, forward-only migrations. Add new ones at the end; never edit a released one. */
const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_gateway': m0002,
  '0003_routing': m0003,
  '0004_limits': m0004,
  '0005_ip_rules': m0005,
  '0006_partial_team_index': m0006,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export interface MigrationReport {
  applied: string[];
}

/** Bring the schema up to date. Safe to call on every start and from several instances (locked). */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationReport> {
  const migrator = new Migrator({
    db: db as Kysely<unknown>,
    provider,
    migrationTableName: 'aihub_migrations',
    migrationLockTableName: 'aihub_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error');
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
