import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as m0001 from './migrations/0001_foundation.js';
import * as m0002 from './migrations/0002_gateway.js';
import * as m0003 from './migrations/0003_routing.js';
import * as m0004 from './migrations/0004_limits.js';
import * as m0005 from './migrations/0005_ip_rules.js';
import * as m0006 from './migrations/0006_partial_team_index.js';
import * as m0007 from './migrations/0007_acme.js';
import * as m0008 from './migrations/0008_tenancy.js';
import * as m0009 from './migrations/0009_mail.js';
import * as m0010 from './migrations/0010_sso.js';
import * as m0011 from './migrations/0011_two_factor.js';
import * as m0013 from './migrations/0013_scoping.js';
import * as m0014 from './migrations/0014_channel_groups.js';
import * as m0015 from './migrations/0015_jobs.js';
import * as m0016 from './migrations/0016_billing.js';
import * as m0018 from './migrations/0018_responses.js';
import * as m0019 from './migrations/0019_unit_prices.js';
import * as m0020 from './migrations/0020_batches.js';
import * as m0021 from './migrations/0021_analytics.js';
import * as m0022 from './migrations/0022_alerts.js';
import * as m0023 from './migrations/0023_channel_tags.js';
import * as m0024 from './migrations/0024_stripe.js';
import * as m0025 from './migrations/0025_statements.js';
import * as m0026 from './migrations/0026_response_cache.js';
import * as m0027 from './migrations/0027_analytics_narrow.js';
import * as m0028 from './migrations/0028_member_wallets.js';
import * as m0030 from './migrations/0030_response_jobs.js';
import * as m0031 from './migrations/0031_analytics_covering.js';
import type { Database } from './schema.js';

/** Numbered, forward-only migrations. Add new ones at the end; never edit a released one. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_gateway': m0002,
  '0003_routing': m0003,
  '0004_limits': m0004,
  '0005_ip_rules': m0005,
  '0006_partial_team_index': m0006,
  '0007_acme': m0007,
  '0008_tenancy': m0008,
  '0009_mail': m0009,
  '0010_sso': m0010,
  '0011_two_factor': m0011,
  '0013_scoping': m0013,
  '0014_channel_groups': m0014,
  '0015_jobs': m0015,
  '0016_billing': m0016,
  '0018_responses': m0018,
  '0019_unit_prices': m0019,
  '0020_batches': m0020,
  '0021_analytics': m0021,
  '0022_alerts': m0022,
  '0023_channel_tags': m0023,
  '0024_stripe': m0024,
  '0025_statements': m0025,
  '0026_response_cache': m0026,
  '0027_analytics_narrow': m0027,
  '0028_member_wallets': m0028,
  '0030_response_jobs': m0030,
  '0031_analytics_covering': m0031,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export interface MigrationReport {
  applied: string[];
}

function migrator(
  db: Kysely<Database> | Kysely<unknown>,
  migrations: Record<string, Migration> = MIGRATIONS,
): Migrator {
  return new Migrator({
    db: db as Kysely<unknown>,
    provider: migrations === MIGRATIONS ? provider : { getMigrations: async () => migrations },
    migrationTableName: 'aihub_migrations',
    migrationLockTableName: 'aihub_migrations_lock',
  });
}

/** Names of every migration this version knows, in order. */
export function knownMigrations(): string[] {
  return Object.keys(MIGRATIONS).sort();
}

/** Names of the migrations the database has applied, in order (none for a new database). */
export async function appliedMigrations(db: Kysely<Database> | Kysely<unknown>): Promise<string[]> {
  return (await migrator(db).getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name);
}

/** Migrations `migrateToLatest` would apply, without applying them (`aihub migrate --dry-run`). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  return (await migrator(db).getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Apply migrations up to and including `name` (restoring a backup made at that schema). */
export async function migrateTo(db: Kysely<Database>, name: string): Promise<MigrationReport> {
  return report(await migrator(db).migrateTo(name));
}

/**
 * Bring the schema up to date. Safe to call on every start and from several instances (locked). The pending
 * migrations run in one transaction on both engines: one that fails leaves the schema as it was, usable by the
 * previous version. `migrations` replaces the list in tests.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  migrations: Record<string, Migration> = MIGRATIONS,
): Promise<MigrationReport> {
  return report(await migrator(db, migrations).migrateToLatest());
}

function report({ error, results }: Awaited<ReturnType<Migrator['migrateToLatest']>>): MigrationReport {
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error');
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
