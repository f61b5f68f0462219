import type { Kysely } from 'kysely';

/**
 * Every key list now reads one organization's keys (GET /api/admin/keys, the overview's key counts, a team's
 * keys): index them by organization, newest first, as the lists are ordered.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('api_keys_org_idx').on('api_keys').columns(['org_id', 'created_at']).execute();
}
