import type { Kysely } from 'kysely';

/**
 * Pricing groups (a named multiplier with per-model overrides, assigned to organizations and teams) and
 * statements: numbered, immutable monthly documents per organization (and per team for chargeback), with
 * credit notes and corrected statements as new documents that reference the original.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('pricing_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('multiplier_ppm', 'bigint', (c) => c.notNull())
    .addColumn('overrides', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('organizations').addColumn('pricing_group_id', 'text').execute();
  await db.schema.alterTable('teams').addColumn('pricing_group_id', 'text').execute();

  await db.schema
    .createTable('statements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull().unique())
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('team_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('period_start', 'bigint', (c) => c.notNull())
    .addColumn('period_end', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('total_micros', 'bigint', (c) => c.notNull())
    .addColumn('corrects_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('content', 'text', (c) => c.notNull())
    // One regular statement per organization (or team) and period: a second run finds it.
    .addColumn('unique_key', 'text', (c) => c.unique())
    .addColumn('issued_by', 'text')
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('statements_org_idx').on('statements').columns(['org_id', 'issued_at']).execute();
}
