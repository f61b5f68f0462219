import { ApiError } from '../../core/errors.js';
import {
  type Dimension,
  GRAIN_NAMES,
  GRAINS,
  type Grain,
  NARROW_TABLES,
  type RollupTable,
  WIDE_ONLY,
} from './rollup.js';

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

/** A part of a range, read from one grain's table. */
export interface RangePart {
  grain: Grain;
  from: number;
  to: number;
}

/**
 * A range aligned to `grain`, as parts each read from the coarsest table that covers it exactly: the whole
 * days inside from the day table, the whole hours at its edges from the hour table, and only the minutes left
 * from the minute table. A sum over a range (the top-N groups) needs the fine rows at its edges only: 30 days
 * by hour read ~2 days of hour rows and 28 day rows per group instead of 720 hour rows. Coarser tables are
 * kept at least as long as finer ones, so every part is still there.
 */
export function coverRange(from: number, to: number, grain: Grain): RangePart[] {
  const finest = GRAIN_NAMES.indexOf(grain);
  const parts: RangePart[] = [];
  const cover = (lo: number, hi: number, level: number): void => {
    if (lo >= hi) return;
    const name = GRAIN_NAMES[level] as Grain;
    if (level <= finest) {
      parts.push({ grain: name, from: lo, to: hi });
      return;
    }
    const width = GRAINS[name].ms;
    const start = Math.ceil(lo / width) * width;
    const end = Math.floor(hi / width) * width;
    if (start >= end) {
      cover(lo, hi, level - 1);
      return;
    }
    cover(lo, start, level - 1);
    parts.push({ grain: name, from: start, to: end });
    cover(end, hi, level - 1);
  };
  cover(from, to, GRAIN_NAMES.length - 1);
  return parts;
}
