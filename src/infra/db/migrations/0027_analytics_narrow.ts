import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import { narrowFromWide } from '../../../modules/analytics/backfill.js';
import { LATENCY_COLUMNS, TTFT_COLUMNS } from '../../../modules/analytics/histogram.js';
import { GRAINS, type Grain, NARROW_DIMENSIONS, NARROW_TABLES, SUMS } from '../../../modules/analytics/rollup.js';

/**
 * Analytics at scale (issue #20):
 *
 * - Narrow rollups `analytics_narrow_{minute,hour,day}`: the buckets of 0021 without the key and user
 *   dimensions (organization, team, model, channel, status class), which a query reads unless it groups by,
 *   filters by or is scoped to keys or users (src/modules/analytics/plan.ts `planTable`). Key and user barely
 *   compress (a quiet key makes one row per hour it is used), so the wide tables are nearly as long as the log.
 *   Built here from the wide tables (the same sums), so history, and day rows whose log rows were purged, are in.
 * - Response-cache counters `cache_hits`, `cache_misses` on every rollup (the admin overview reads them from
 *   the rollups now), counted here from the log rows that are still stored.
 * - Indexes of the wide hour and day tables by (organization, user, bucket) and (organization, key, bucket):
 *   a developer's own rows, a key list's spend column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const grains = Object.keys(GRAINS) as Grain[];
  for (const grain of grains) {
    const table = GRAINS[grain].table;
    await db.schema
      .alterTable(table)
      .addColumn('cache_hits', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable(table)
      .addColumn('cache_misses', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    // The cache counts of the stored log rows (only requests that asked the cache: few, and only since 0026).
    const width = GRAINS[grain].ms;
    await sql
      .raw(
        `update "${table}" set cache_hits = c.hits, cache_misses = c.misses from (
          select (at / ${width}) * ${width} as bucket, coalesce(org_id, '') as org_id, coalesce(team_id, '') as team_id,
            coalesce(user_id, '') as user_id, coalesce(key_id, '') as key_id, model, coalesce(channel_id, '') as channel_id,
            cast(status / 100 as text) || 'xx' as status_class,
            sum(case when cache = 'hit' then 1 else 0 end) as hits, sum(case when cache = 'miss' then 1 else 0 end) as misses
          from request_logs where cache is not null group by 1, 2, 3, 4, 5, 6, 7, 8
        ) as c
        where "${table}".bucket = c.bucket and "${table}".org_id = c.org_id and "${table}".team_id = c.team_id
          and "${table}".user_id = c.user_id and "${table}".key_id = c.key_id and "${table}".model = c.model
          and "${table}".channel_id = c.channel_id and "${table}".status_class = c.status_class`,
      )
      .execute(db);
    if (grain !== 'minute') {
      await db.schema.createIndex(`${table}_user_idx`).on(table).columns(['org_id', 'user_id', 'bucket']).execute();
      await db.schema.createIndex(`${table}_key_idx`).on(table).columns(['org_id', 'key_id', 'bucket']).execute();
    }
  }

  for (const grain of grains) {
    const table = NARROW_TABLES[grain];
    let create = db.schema.createTable(table).addColumn('bucket', 'bigint', (c) => c.notNull()) as CreateTableBuilder<
      string,
      string
    >;
    for (const d of NARROW_DIMENSIONS) create = create.addColumn(d, 'text', (c) => c.notNull());
    for (const s of SUMS) create = create.addColumn(s, 'bigint', (c) => c.notNull().defaultTo(0));
    for (const h of [...LATENCY_COLUMNS, ...TTFT_COLUMNS])
      create = create.addColumn(h, 'integer', (c) => c.notNull().defaultTo(0));
    // Organization first, then the bucket: every query is one organization's range of buckets.
    await create.addPrimaryKeyConstraint(`${table}_pk`, ['org_id', 'bucket', ...NARROW_DIMENSIONS.slice(1)]).execute();
    if (grain !== 'day') await db.schema.createIndex(`${table}_bucket_idx`).on(table).column('bucket').execute();
  }
  await narrowFromWide(db);
}
