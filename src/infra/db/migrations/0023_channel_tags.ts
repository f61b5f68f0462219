import type { Kysely } from 'kysely';

/**
 * Channel operations: tags on channels (labels for the console, and a model route may name a tag instead of a
 * channel: `model_tag_routes`, expanded into one route per channel with the tag when the catalog is built), and
 * the upstream account balance last fetched for a channel (JSON, with the time it was fetched).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('channels')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.alterTable('channels').addColumn('balance', 'text').execute();
  await db.schema.alterTable('channels').addColumn('balance_at', 'bigint').execute();
  await db.schema
    .createTable('model_tag_routes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model_id', 'text', (c) => c.notNull().references('models.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('upstream_model', 'text')
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('weight', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('model_tag_routes_model_idx').on('model_tag_routes').column('model_id').execute();
}
