import type { RequestLogsTable } from '../../infra/db/schema.js';
import { BUCKETS, bucketOf, LATENCY_COLUMNS, TTFT_COLUMNS } from './histogram.js';

/** The rollup tables, finest first, and the width of their buckets (UTC-aligned, epoch ms). */
export const GRAINS = {
  minute: { table: 'analytics_minute', ms: 60_000 },
  hour: { table: 'analytics_hour', ms: 3_600_000 },
  day: { table: 'analytics_day', ms: 86_400_000 },
} as const;
export type Grain = keyof typeof GRAINS;
export const GRAIN_NAMES = Object.keys(GRAINS) as Grain[];

/**
 * The narrow rollups (migration 0027): the same buckets without the key and user dimensions, which barely
 * compress (one row per key and hour is nearly a row per request for a quiet key). Every query that neither
 * groups nor filters by key or user (nor is scoped to a user's own rows) reads these: far fewer rows.
 */
export const NARROW_TABLES = {
  minute: 'analytics_narrow_minute',
  hour: 'analytics_narrow_hour',
  day: 'analytics_narrow_day',
} as const;
export type WideTable = (typeof GRAINS)[Grain]['table'];
export type NarrowTable = (typeof NARROW_TABLES)[Grain];
export type RollupTable = WideTable | NarrowTable;
/** Every rollup table, with its grain and whether it is narrow. */
export const ROLLUP_TABLES: ReadonlyArray<{ table: RollupTable; grain: Grain; narrow: boolean }> = [
  ...GRAIN_NAMES.map((grain) => ({ table: GRAINS[grain].table, grain, narrow: false })),
  ...GRAIN_NAMES.map((grain) => ({ table: NARROW_TABLES[grain], grain, narrow: true })),
];

/**
 * What a rollup row is keyed by. Dimensions a request has none of (master-key requests: no organization,
 * user or key; a request that reached no channel) are stored as '' — never NULL, so the unique key matches
 * them on both engines and the upsert adds to the row instead of inserting a second one.
 */
export const DIMENSIONS = ['org_id', 'team_id', 'user_id', 'key_id', 'model', 'channel_id', 'status_class'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
/** The dimensions of the narrow tables: all but key and user. */
export const NARROW_DIMENSIONS = ['org_id', 'team_id', 'model', 'channel_id', 'status_class'] as const;
/** Dimensions only the wide tables hold. */
export const WIDE_ONLY: readonly Dimension[] = ['user_id', 'key_id'];

export function isNarrow(table: RollupTable): table is NarrowTable {
  return (Object.values(NARROW_TABLES) as string[]).includes(table);
}

/** The dimensions a table is keyed by. */
export function dimensionsOf(table: RollupTable): readonly Dimension[] {
  return isNarrow(table) ? NARROW_DIMENSIONS : DIMENSIONS;
}

/** Counters summed into a rollup row. */
export const SUMS = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_micros',
  'price_micros',
  'latency_ms_sum',
  'cache_hits',
  'cache_misses',
] as const;
export type Sum = (typeof SUMS)[number];

/** Every column that is added on conflict: the sums and both histograms. */
export const ADDED_COLUMNS: readonly string[] = [...SUMS, ...LATENCY_COLUMNS, ...TTFT_COLUMNS];
/** Every column of a (wide) rollup row, in the order `rollupParameters` gives the values. */
export const ROLLUP_COLUMNS: readonly string[] = ['bucket', ...DIMENSIONS, ...ADDED_COLUMNS];

/** Every column of a row of `table`, in the order `rollupParameters(row, table)` gives the values. */
export function columnsOf(table: RollupTable): readonly string[] {
  return isNarrow(table) ? ['bucket', ...NARROW_DIMENSIONS, ...ADDED_COLUMNS] : ROLLUP_COLUMNS;
}

/** One rollup row being built in memory. */
export interface RollupRow {
  bucket: number;
  dims: Record<Dimension, string>;
  sums: Record<Sum, number>;
  latency: number[];
  ttft: number[];
}

/** "2xx", "4xx", "5xx"… of an HTTP status. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/** A request counts as an error when its status is not 2xx (as the request log's `status=error` filter). */
export function isError(status: number): boolean {
  return status < 200 || status >= 300;
}

/**
 * The rollup rows of a batch of request-log rows at one grain: one per bucket and distinct dimensions, with
 * sums and histograms. Pure: the writer calls it once per flush per grain, then upserts the result.
 */
export function aggregate(
  rows: readonly RequestLogsTable[],
  grain: Grain,
  dimensions: readonly Dimension[] = DIMENSIONS,
): RollupRow[] {
  const width = GRAINS[grain].ms;
  const byKey = new Map<string, RollupRow>();
  for (const row of rows) {
    const bucket = Math.floor(row.at / width) * width;
    const dims: Record<Dimension, string> = {
      org_id: row.org_id ?? '',
      team_id: row.team_id ?? '',
      user_id: row.user_id ?? '',
      key_id: row.key_id ?? '',
      model: row.model,
      channel_id: row.channel_id ?? '',
      status_class: statusClass(row.status),
    };
    const key = `${bucket}\u0000${dimensions.map((d) => dims[d]).join('\u0000')}`;
    let rollup = byKey.get(key);
    if (!rollup) {
      rollup = {
        bucket,
        dims,
        sums: {
          requests: 0,
          errors: 0,
          prompt_tokens: 0,
          completion_tokens: 0,
          cached_tokens: 0,
          reasoning_tokens: 0,
          cost_micros: 0,
          price_micros: 0,
          latency_ms_sum: 0,
          cache_hits: 0,
          cache_misses: 0,
        },
        latency: new Array<number>(BUCKETS).fill(0),
        ttft: new Array<number>(BUCKETS).fill(0),
      };
      byKey.set(key, rollup);
    }
    const s = rollup.sums;
    s.requests++;
    if (isError(row.status)) s.errors++;
    s.prompt_tokens += row.prompt_tokens;
    s.completion_tokens += row.completion_tokens;
    s.cached_tokens += row.cached_tokens;
    s.reasoning_tokens += row.reasoning_tokens;
    s.cost_micros += row.cost_micros;
    s.price_micros += row.price_micros ?? 0;
    s.latency_ms_sum += row.latency_ms;
    if (row.cache === 'hit') s.cache_hits++;
    else if (row.cache === 'miss') s.cache_misses++;
    (rollup.latency[bucketOf(row.latency_ms)] as number)++;
    if (row.ttft_ms !== null && row.ttft_ms !== undefined) (rollup.ttft[bucketOf(row.ttft_ms)] as number)++;
  }
  return [...byKey.values()];
}

/** A rollup row's values in `columnsOf(table)` order (the wide tables' by default). */
export function rollupParameters(row: RollupRow, table?: RollupTable): Array<number | string> {
  const values: Array<number | string> = [row.bucket];
  for (const d of table ? dimensionsOf(table) : DIMENSIONS) values.push(row.dims[d]);
  for (const s of SUMS) values.push(row.sums[s]);
  for (const c of row.latency) values.push(c);
  for (const c of row.ttft) values.push(c);
  return values;
}

/** A rollup row as a record of columns (for Kysely). */
export function rollupRecord(row: RollupRow): Record<string, number | string> {
  const values = rollupParameters(row);
  return Object.fromEntries(ROLLUP_COLUMNS.map((c, i) => [c, values[i] as number | string]));
}

/**
 * `insert … on conflict (key) do update set c = table.c + excluded.c` for `rows` rows of one table, with `?`
 * placeholders (SQLite) or `$n` (PostgreSQL). Identifiers are our own constants, quoted.
 */
export function upsertSql(table: RollupTable, rows: number, placeholder: 'question' | 'dollar'): string {
  const all = columnsOf(table);
  const columns = all.map((c) => `"${c}"`).join(', ');
  const groups: string[] = [];
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const marks = all.map(() => (placeholder === 'question' ? '?' : `$${++n}`));
    groups.push(`(${marks.join(', ')})`);
  }
  const key = ['bucket', ...dimensionsOf(table)].map((c) => `"${c}"`).join(', ');
  const sets = ADDED_COLUMNS.map((c) => `"${c}" = "${table}"."${c}" + excluded."${c}"`).join(', ');
  return `insert into "${table}" (${columns}) values ${groups.join(', ')} on conflict (${key}) do update set ${sets}`;
}
