import type { CreateTableBuilder, Kysely } from 'kysely';
import { backfillRollups, CACHE_SUMS } from '../../../modules/analytics/backfill.js';
import { LATENCY_COLUMNS, TTFT_COLUMNS } from '../../../modules/analytics/histogram.js';
import { MINUTE_RETENTION_DAYS } from '../../../modules/analytics/retention.js';
import { DIMENSIONS, GRAINS, SUMS } from '../../../modules/analytics/rollup.js';

/**
 * Analytics (issue #20): rollups of the request log per minute, hour and day, keyed by bucket and every
 * dimension (organization, team, user, key, model, channel, status class; '' where a request has none), with
 * sums and two fixed log-scale histograms (latency, time to first token) whose counts add up. The usage
 * writer upserts them in the same transaction as the log rows. Minute and hour rows are pruned by the
 * `analytics.prune` job; day rows are kept forever, whatever the log's retention.
 *
 * `analytics_views`: a user's saved views of the analytics page (per organization).
 *
 * Existing request-log rows are rolled up here, so an upgraded install has its history.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const { table } of Object.values(GRAINS)) {
    // Built column by column from the module's lists (the histogram has 80 columns).
    let create = db.schema.createTable(table).addColumn('bucket', 'bigint', (c) => c.notNull()) as CreateTableBuilder<
      string,
      string
    >;
    for (const d of DIMENSIONS) create = create.addColumn(d, 'text', (c) => c.notNull());
    // The cache counters came with 0027, which adds them.
    for (const s of SUMS.filter((c) => !CACHE_SUMS.includes(c)))
      create = create.addColumn(s, 'bigint', (c) => c.notNull().defaultTo(0));
    for (const h of [...LATENCY_COLUMNS, ...TTFT_COLUMNS])
      create = create.addColumn(h, 'integer', (c) => c.notNull().defaultTo(0));
    // Organization first: every query is one organization's range of buckets.
    await create.addPrimaryKeyConstraint(`${table}_pk`, ['org_id', 'bucket', ...DIMENSIONS.slice(1)]).execute();
    if (table !== GRAINS.day.table)
      await db.schema.createIndex(`${table}_bucket_idx`).on(table).column('bucket').execute();
  }

  await db.schema
    .createTable('analytics_views')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('analytics_views_user_idx')
    .on('analytics_views')
    .columns(['org_id', 'user_id'])
    .execute();

  await backfillRollups(db, Date.now(), MINUTE_RETENTION_DAYS, '0021');
}
