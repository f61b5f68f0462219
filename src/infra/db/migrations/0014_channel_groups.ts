import type { Kysely } from 'kysely';

/**
 * Channel groups ("which channels' models may be used", the user groups of other gateways): every channel is
 * in one or more groups (existing ones in `default`); an organization or team may be limited to some groups
 * (null = every channel, so nothing changes for existing data).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('channels')
    .addColumn('groups', 'text', (c) => c.notNull().defaultTo('["default"]'))
    .execute();
  await db.schema.alterTable('organizations').addColumn('channel_groups', 'text').execute();
  await db.schema.alterTable('teams').addColumn('channel_groups', 'text').execute();
}
