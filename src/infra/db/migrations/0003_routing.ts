import type { Kysely } from 'kysely';

/** Per-model routing strategy and fallback models. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('models').addColumn('strategy', 'text').execute();
  await db.schema.alterTable('models').addColumn('fallback_models', 'text').execute();
}
