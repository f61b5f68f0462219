import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { SUMS } from '../../../modules/analytics/rollup.js';

/**
 * PostgreSQL only: the key and user indexes of the wide hour and day rollups carry the counters (`INCLUDE`), so
 * a per-key or per-user series is an index-only scan instead of fetching each wide row (80 histogram columns)
 * from the heap: 30 days by user per hour over 10 M requests went from ~270 ms to ~95 ms (bench/RESULTS.md).
 * PostgreSQL writes new index entries for these rows on every counter update anyway (the updates are rarely
 * HOT), so the writes barely change. SQLite keeps its indexes: there an index holding the counters would be
 * rewritten on each upsert, and its per-key series already answer well under the target.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  const include = sql.join(SUMS.map((column) => sql.ref(column)));
  for (const table of ['analytics_hour', 'analytics_day']) {
    for (const dimension of ['user', 'key']) {
      const name = `${table}_${dimension}_idx`;
      await db.schema.dropIndex(name).ifExists().execute();
      await sql`create index ${sql.ref(name)} on ${sql.table(table)} (org_id, ${sql.ref(`${dimension}_id`)}, bucket) include (${include})`.execute(
        db,
      );
    }
  }
}
