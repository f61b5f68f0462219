import { ApiError } from '../../core/errors.js';
import { type Dimension, GRAINS, type Grain, NARROW_TABLES, type RollupTable, WIDE_ONLY } from './rollup.js';

/** The longest range read from minute rollups, and from hour rollups; longer ones read day rollups. */
export const MINUTE_MAX_RANGE_MS = 6 * 3_600_000;
export const HOUR_MAX_RANGE_MS = 31 * 86_400_000;
/** Points a series may have (range / interval). */
export const MAX_POINTS = 5_000;

export interface RangePlan {
  /** The rollup grain read. */
  grain: Grain;
  /** The width of the answer's buckets (ms): the grain's, or a coarser interval asked for. */
  interval: Grain;
  /** The range read: `from` floored and `to` raised to whole buckets of `interval`. */
  from: number;
  to: number;
}

/**
 * Which rollup table answers a range: the finest that fits it (minutes up to 6 hours, hours up to 31 days,
 * days beyond) and still holds rows that old (minutes are kept `minuteDays`, hours `hourDays`). An interval
 * finer than that table is refused; a coarser one is read from its own table. The range is widened to whole
 * intervals (UTC), so sums are exact: every request of a bucket is in it or not.
 */
export function planRange(
  range: { from: number; to: number; interval?: Grain | undefined },
  now: number,
  retention: { minuteDays: number; hourDays: number },
): RangePlan {
  const { from, to } = range;
  if (!(to > from)) throw new ApiError('validation_failed', '`to` must be after `from`');
  const span = to - from;
  let grain: Grain = span <= MINUTE_MAX_RANGE_MS ? 'minute' : span <= HOUR_MAX_RANGE_MS ? 'hour' : 'day';
  if (grain === 'minute' && from < now - retention.minuteDays * GRAINS.day.ms) grain = 'hour';
  if (grain === 'hour' && from < now - retention.hourDays * GRAINS.day.ms) grain = 'day';
  const interval = range.interval ?? grain;
  if (GRAINS[interval].ms < GRAINS[grain].ms)
    throw new ApiError(
      'validation_failed',
      `interval=${interval} is finer than this range allows (${grain}): minutes need a range of at most 6 hours within the last ${retention.minuteDays} days, hours at most 31 days within the last ${retention.hourDays} days`,
    );
  // The range is aligned to whole intervals, so the interval's own table answers exactly, and it is smaller
  // (coarser tables are kept at least as long as finer ones).
  grain = interval;
  const width = GRAINS[interval].ms;
  const alignedFrom = Math.floor(from / width) * width;
  const alignedTo = Math.ceil(to / width) * width;
  if ((alignedTo - alignedFrom) / width > MAX_POINTS)
    throw new ApiError(
      'validation_failed',
      `the range holds more than ${MAX_POINTS} ${interval}s: choose a coarser interval`,
    );
  return { grain, interval, from: alignedFrom, to: alignedTo };
}

/**
 * Which table of a grain answers a query: the narrow one (no key, no user: far fewer rows) unless the query
 * groups by, filters by or is scoped to a dimension only the wide table holds (key, user). Both hold the same
 * sums over the same buckets, so the answer is the same either way.
 */
export function planTable(
  grain: Grain,
  query: { groupBy: Dimension | null; filtered: readonly Dimension[]; scopedToUsers: boolean },
): RollupTable {
  const wide =
    query.scopedToUsers ||
    (query.groupBy !== null && WIDE_ONLY.includes(query.groupBy)) ||
    query.filtered.some((d) => WIDE_ONLY.includes(d));
  return wide ? GRAINS[grain].table : NARROW_TABLES[grain];
}
