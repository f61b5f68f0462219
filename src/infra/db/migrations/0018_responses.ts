import type { Kysely } from 'kysely';

/**
 * Stored responses of the OpenAI Responses API (`store`, the default): read back by id, listed as input
 * items, and followed by `previous_response_id`. Scoped by organization and API key. The items live in
 * the row (JSON text): a response is read whole by its primary key and deleted with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('responses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text')
    .addColumn('key_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('channel_id', 'text')
    .addColumn('provider_key_id', 'text')
    .addColumn('native', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('previous_response_id', 'text')
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('responses_created_idx').on('responses').columns(['created_at']).execute();
}
