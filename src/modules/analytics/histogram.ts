/**
 * The fixed log-scale histogram the rollups store for latency and time to first token (milliseconds).
 *
 * Bucket i holds values v with BOUNDS[i-1] <= v < BOUNDS[i] (bucket 0: v < 1 ms; the last bucket: v >= the
 * last bound, about 12 minutes). The bounds grow by a factor of √2, rounded to whole milliseconds, so a
 * percentile read from merged bucket counts lies in the same bucket as the exact one: it is off by less than
 * the bucket's width, i.e. at most 41 % of the value (≈ ±19 % around the bucket's geometric middle), and exact
 * below 4 ms. Counts add up, so a histogram of a day is the sum of its hours' histograms — percentiles of any
 * range and group come from summed columns, never from raw rows.
 */
export const BOUNDS: readonly number[] = [
  1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448, 2048, 2896, 4096, 5793, 8192,
  11585, 16384, 23170, 32768, 46341, 65536, 92682, 131072, 185364, 262144, 370728, 524288, 741455,
];

/** Buckets per histogram (the number of `lat_NN` / `ttft_NN` columns of a rollup table). */
export const BUCKETS = 40;

/** The bucket of a value in milliseconds. */
export function bucketOf(ms: number): number {
  // Binary search: the first bound above the value.
  let lo = 0;
  let hi = BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms < (BOUNDS[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The lower and upper bound (ms) of a bucket; the last one's upper bound is taken as twice its lower. */
export function bucketRange(bucket: number): [number, number] {
  const lower = bucket === 0 ? 0 : (BOUNDS[bucket - 1] as number);
  const upper = bucket < BOUNDS.length ? (BOUNDS[bucket] as number) : lower * 2;
  return [lower, upper];
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram given as bucket counts, interpolated linearly inside the bucket
 * that holds it; null for an empty histogram.
 */
export function quantile(counts: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] as number;
    if (count === 0) continue;
    if (seen + count >= rank) {
      const [lower, upper] = bucketRange(i);
      const within = (rank - seen) / count;
      return Math.round((lower + (upper - lower) * within) * 10) / 10;
    }
    seen += count;
  }
  const [lower] = bucketRange(counts.length - 1);
  return lower;
}

/** Column names of the latency and TTFT buckets: lat_00 … lat_39, ttft_00 … ttft_39. */
export const LATENCY_COLUMNS: readonly string[] = Array.from({ length: BUCKETS }, (_, i) => `lat_${pad(i)}`);
export const TTFT_COLUMNS: readonly string[] = Array.from({ length: BUCKETS }, (_, i) => `ttft_${pad(i)}`);

function pad(i: number): string {
  return i < 10 ? `0${i}` : String(i);
}
