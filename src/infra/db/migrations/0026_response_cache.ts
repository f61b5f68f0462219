import type { Kysely } from 'kysely';

/**
 * The response cache (docs/response-cache.md): stored answers by key (a hash of organization, endpoint,
 * model and body), the opt-ins on keys (`response_cache`) and models (`cache_ttl_seconds`), and whether a
 * logged request was answered from the cache (`request_logs.cache`: hit | miss | null when not cached).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('response_cache')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('meta', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('response_cache_expires').on('response_cache').column('expires_at').execute();
  await db.schema.alterTable('api_keys').addColumn('response_cache', 'integer').execute();
  await db.schema.alterTable('models').addColumn('cache_ttl_seconds', 'integer').execute();
  await db.schema.alterTable('request_logs').addColumn('cache', 'text').execute();
}
