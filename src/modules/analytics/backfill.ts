import { type Kysely, sql } from 'kysely';
import { BOUNDS, LATENCY_COLUMNS, TTFT_COLUMNS } from './histogram.js';
import { ADDED_COLUMNS, DIMENSIONS, GRAINS, type Grain, ROLLUP_COLUMNS } from './rollup.js';

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
 * Rollup rows of `grain` built from the raw request log, in SQL (an upgrade's history, the benchmark's
 * seed): the same sums and histograms the usage writer adds per flush. `from` limits the rows read.
 * Inserts into an empty range of the table (rows of the same bucket and group would collide).
 */
export async function rollupFromLog(db: Kysely<unknown>, grain: Grain, from?: number): Promise<void> {
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
    ...histogramSums('latency_ms'),
    ...histogramSums('ttft_ms'),
  ];
  const where = from === undefined ? '' : ` where at >= ${Math.floor(from)}`;
  const columns = ROLLUP_COLUMNS.map((c) => `"${c}"`).join(', ');
  const groupBy = Array.from({ length: 1 + DIMENSIONS.length }, (_, i) => i + 1).join(', ');
  await sql
    .raw(
      `insert into "${GRAINS[grain].table}" (${columns}) select ${selected.join(', ')} from request_logs${where} group by ${groupBy}`,
    )
    .execute(db);
}

/** Rollup rows of a coarser grain summed from a finer table (day rows from hour rows). */
export async function rollupFromRollup(db: Kysely<unknown>, target: Grain, source: Grain): Promise<void> {
  const width = GRAINS[target].ms;
  const columns = ROLLUP_COLUMNS.map((c) => `"${c}"`).join(', ');
  const selected = [
    `(bucket / ${width}) * ${width}`,
    ...DIMENSIONS.map((d) => `"${d}"`),
    ...ADDED_COLUMNS.map((c) => `sum("${c}")`),
  ];
  const groupBy = Array.from({ length: 1 + DIMENSIONS.length }, (_, i) => i + 1).join(', ');
  await sql
    .raw(
      `insert into "${GRAINS[target].table}" (${columns}) select ${selected.join(', ')} from "${GRAINS[source].table}" group by ${groupBy}`,
    )
    .execute(db);
}

/**
 * Build every rollup table from the request log already stored (an install upgraded to analytics, or a
 * seeded benchmark): hours from the raw rows, days from the hours, minutes only for the last `minuteDays`.
 */
export async function backfillRollups(db: Kysely<unknown>, now: number, minuteDays: number): Promise<void> {
  await rollupFromLog(db, 'hour');
  await rollupFromRollup(db, 'day', 'hour');
  const cutoff = Math.floor((now - minuteDays * GRAINS.day.ms) / GRAINS.minute.ms) * GRAINS.minute.ms;
  await rollupFromLog(db, 'minute', cutoff);
}

export { LATENCY_COLUMNS, TTFT_COLUMNS };
