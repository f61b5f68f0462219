import type { Kysely } from 'kysely';

/**
 * Per-unit prices of a model, beside its per-token prices: per image (by size/quality, or a default),
 * per second of audio input, per character of speech input, per search unit (rerank). One JSON text
 * column (null = none): the catalog reads it once per reload, and new kinds of unit need no migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('models').addColumn('unit_prices', 'text').execute();
}
