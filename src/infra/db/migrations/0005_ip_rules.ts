import type { Kysely } from 'kysely';

/** Global allow/deny lists of client addresses, for /v1 and for /api + the console. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ip_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('cidr', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addUniqueConstraint('ip_rules_unique', ['scope', 'action', 'cidr'])
    .execute();
}
