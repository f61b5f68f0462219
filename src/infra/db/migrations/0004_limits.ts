import type { Kysely } from 'kysely';

/** Limit policies of users, teams and organizations (keys keep theirs on api_keys); indexes for period sums. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('limit_policies')
    .addColumn('scope_type', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('budget_micros', 'bigint')
    .addColumn('budget_period', 'text')
    .addColumn('token_quota', 'bigint')
    .addColumn('token_quota_period', 'text')
    .addColumn('rpm', 'integer')
    .addColumn('tpm', 'integer')
    .addColumn('max_concurrency', 'integer')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('limit_policies_pk', ['scope_type', 'scope_id'])
    .execute();
  await db.schema.createIndex('request_logs_org_at_idx').on('request_logs').columns(['org_id', 'at']).execute();
  await db.schema.createIndex('request_logs_team_at_idx').on('request_logs').columns(['team_id', 'at']).execute();
}
