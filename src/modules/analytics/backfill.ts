import { type Kysely, PostgresAdapter, sql } from 'kysely';
import type { Database } from '../../infra/db/schema.js';
import { BOUNDS, LATENCY_COLUMNS, TTFT_COLUMNS } from './histogram.js';
import {
  ADDED_COLUMNS,
  columnsOf,
  DIMENSIONS,
  dimensionsOf,
  GRAINS,
  type Grain,
  NARROW_TABLES,
  ROLLUP_COLUMNS,
  ROLLUP_TABLES,
  type RollupTable,
} from './rollup.js';

/**
 * Which schema the rollups have: 'current', or '0021' (migration 0021's, without the cache counters and the
 * narrow tables of 0027), so that migration still builds what it created when an old install upgrades.
 */
export type Schema = 'current' | '0021';
/** The counters added by migration 0027. */
export const CACHE_SUMS: readonly string[] = ['cache_hits', 'cache_misses'];

/** `sum(case when <column> in bucket i then 1 else 0 end)` for every bucket of the histogram. */
function histogramSums(column: 'latency_ms' | 'ttft_ms'): string[] {
  return Array.from({ length: BOUNDS.length + 1 }, (_, i) => {
    const lower = i === 0 ? null : BOUNDS[i - 1];
    const upper = i < BOUNDS.length ? BOUNDS[i] : null;
    const conditions = [
      lower === null ? null : `${column} >= ${lower}`,
      upper === null ? null : `${column} < ${upper}`,
    ];
    return `sum(case when ${conditions.filter((c) => c !== null).join(' and ')} then 1 else 0 end)`;
  });
}

/**
 * Rollup rows of `grain` (the wide table) built from the raw request log, in SQL (an upgrade's history, the
 * benchmark's seed): the same sums and histograms the usage writer adds per flush. `from` limits the rows
 * read. `source` replaces `request_logs` by a relation with its columns (the benchmark's generated rows).
 * Inserts into an empty range of the table (rows of the same bucket and group would collide).
 */
export async function rollupFromLog(
  db: Kysely<unknown>,
  grain: Grain,
  from?: number,
  source = 'request_logs',
  schema: Schema = 'current',
): Promise<void> {
  const width = GRAINS[grain].ms;
  const selected = [
    `(at / ${width}) * ${width}`,
    "coalesce(org_id, '')",
    "coalesce(team_id, '')",
    "coalesce(user_id, '')",
    "coalesce(key_id, '')",
    'model',
    "coalesce(channel_id, '')",
    "cast(status / 100 as text) || 'xx'",
    'count(*)',
    'sum(case when status < 200 or status >= 300 then 1 else 0 end)',
    'sum(prompt_tokens)',
    'sum(completion_tokens)',
    'sum(cached_tokens)',
    'sum(reasoning_tokens)',
    'sum(cost_micros)',
    'sum(coalesce(price_micros, 0))',
    'sum(latency_ms)',
    ...(schema === 'current'
      ? ["sum(case when cache = 'hit' then 1 else 0 end)", "sum(case when cache = 'miss' then 1 else 0 end)"]
      : []),
    ...histogramSums('latency_ms'),
    ...histogramSums('ttft_ms'),
  ];
  const where = from === undefined ? '' : ` where at >= ${Math.floor(from)}`;
  const columns = ROLLUP_COLUMNS.filter((c) => schema === 'current' || !CACHE_SUMS.includes(c))
    .map((c) => `"${c}"`)
    .join(', ');
  const groupBy = Array.from({ length: 1 + DIMENSIONS.length }, (_, i) => i + 1).join(', ');
  await sql
    .raw(
      `insert into "${GRAINS[grain].table}" (${columns}) select ${selected.join(', ')} from ${source}${where} group by ${groupBy}`,
    )
    .execute(db);
}

/**
 * Rollup rows summed from another rollup table: a coarser grain from a finer one (day rows from hour rows),
 * and/or a narrow table from a wide one (dropping key and user). `from` limits the buckets read.
 */
export async function rollupInto(
  db: Kysely<unknown>,
  target: { table: RollupTable; grain: Grain },
  source: RollupTable,
  from?: number,
  schema: Schema = 'current',
): Promise<void> {
  const width = GRAINS[target.grain].ms;
  const dimensions = dimensionsOf(target.table);
  const current = (c: string) => schema === 'current' || !CACHE_SUMS.includes(c);
  const columns = columnsOf(target.table)
    .filter(current)
    .map((c) => `"${c}"`)
    .join(', ');
  const selected = [
    `(bucket / ${width}) * ${width}`,
    ...dimensions.map((d) => `"${d}"`),
    ...ADDED_COLUMNS.filter(current).map((c) => `sum("${c}")`),
  ];
  const where = from === undefined ? '' : ` where bucket >= ${Math.floor(from)}`;
  const groupBy = Array.from({ length: 1 + dimensions.length }, (_, i) => i + 1).join(', ');
  await sql
    .raw(
      `insert into "${target.table}" (${columns}) select ${selected.join(', ')} from "${source}"${where} group by ${groupBy}`,
    )
    .execute(db);
}

/** Rollup rows of a coarser grain summed from a finer wide table (day rows from hour rows). */
export function rollupFromRollup(
  db: Kysely<unknown>,
  target: Grain,
  source: Grain,
  schema: Schema = 'current',
): Promise<void> {
  return rollupInto(db, { table: GRAINS[target].table, grain: target }, GRAINS[source].table, undefined, schema);
}

/** The narrow tables summed from the wide ones, grain by grain (migration 0027, the backfill). */
export async function narrowFromWide(db: Kysely<unknown>): Promise<void> {
  for (const grain of Object.keys(GRAINS) as Grain[])
    await rollupInto(db, { table: NARROW_TABLES[grain], grain }, GRAINS[grain].table);
}

/**
 * Build every rollup table from the request log already stored (an install upgraded to analytics, or a
 * seeded benchmark): hours from the raw rows, days from the hours, minutes only for the last `minuteDays`,
 * then the narrow tables from the wide ones.
 */
export async function backfillRollups(
  db: Kysely<unknown>,
  now: number,
  minuteDays: number,
  schema: Schema = 'current',
): Promise<void> {
  await rollupFromLog(db, 'hour', undefined, 'request_logs', schema);
  await rollupFromRollup(db, 'day', 'hour', schema);
  const cutoff = Math.floor((now - minuteDays * GRAINS.day.ms) / GRAINS.minute.ms) * GRAINS.minute.ms;
  await rollupFromLog(db, 'minute', cutoff, 'request_logs', schema);
  if (schema === 'current') await narrowFromWide(db);
}

export { LATENCY_COLUMNS, TTFT_COLUMNS };

/** What a rebuild read and replaced. */
export interface RebuildResult {
  /** The first UTC day rebuilt (epoch ms); null when the request log is empty (nothing rebuilt). */
  from: number | null;
  /** Request-log rows read. */
  rows: number;
}

/**
 * Rebuild every rollup table from the request log, from the UTC day `from` falls in (default: the day of the
 * oldest log row) on: the rollups of those days are deleted and summed again from the log (days, the hours of
 * the last `hourDays`, the minutes of the last `minuteDays`, then the narrow tables from the wide ones).
 * Days before `from` keep their rollups — the only record of days whose log rows retention deleted — and a
 * `from` before the oldest log row starts at that row's day, so no day is emptied.
 *
 * In one transaction, the rollup tables locked first on PostgreSQL: a usage writer on another instance waits
 * and adds its rows on top of the rebuilt ones (SQLite has one writer at a time anyway).
 */
export async function rebuildRollups(
  db: Kysely<Database>,
  options: { now: number; minuteDays: number; hourDays: number; from?: number | undefined },
): Promise<RebuildResult> {
  const day = GRAINS.day.ms;
  return db.transaction().execute(async (trx) => {
    if (trx.getExecutor().adapter instanceof PostgresAdapter)
      await sql.raw(`lock table ${ROLLUP_TABLES.map((t) => `"${t.table}"`).join(', ')} in exclusive mode`).execute(trx);
    const oldest = await trx
      .selectFrom('request_logs')
      .select((eb) => eb.fn.min('at').as('at'))
      .executeTakeFirst();
    if (oldest?.at === null || oldest?.at === undefined) return { from: null, rows: 0 };
    const first = Math.floor(Math.max(Number(oldest.at), options.from ?? 0) / day) * day;
    const counted = await trx
      .selectFrom('request_logs')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('at', '>=', first)
      .executeTakeFirst();
    for (const { table } of ROLLUP_TABLES) await trx.deleteFrom(table).where('bucket', '>=', first).execute();
    const since = (days: number, grain: Grain) =>
      Math.max(first, Math.floor((options.now - days * day) / GRAINS[grain].ms) * GRAINS[grain].ms);
    const starts: Record<Grain, number> = {
      day: first,
      hour: since(options.hourDays, 'hour'),
      minute: since(options.minuteDays, 'minute'),
    };
    // Hours and minutes older than their retention are not rebuilt (the prune job would delete them).
    const raw = trx as unknown as Kysely<unknown>;
    for (const grain of Object.keys(GRAINS) as Grain[]) {
      await rollupFromLog(raw, grain, starts[grain]);
      await rollupInto(raw, { table: NARROW_TABLES[grain], grain }, GRAINS[grain].table, starts[grain]);
    }
    return { from: first, rows: Number(counted?.n ?? 0) };
  });
}
