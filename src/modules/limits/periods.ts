/** Budget and quota periods; boundaries fall at midnight in a configurable IANA time zone. */
export const PERIODS = ['day', 'week', 'month', 'lifetime'] as const;
export type Period = (typeof PERIODS)[number];

export interface PeriodWindow {
  /** Stable id of the current period, part of counter keys: `d2026-11-22`, `w2026-11-16`, `m2026-11`, `life`. */
  key: string;
  /** Epoch ms where the period began (0 for lifetime). */
  startsAt: number;
  /** Epoch ms of the next boundary (null for lifetime). */
  resetsAt: number | null;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of instant `ms` in `timeZone`. */
function wallClock(ms: number, timeZone: string): LocalDate & { hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
  };
}

/** Offset of `timeZone` from UTC at instant `ms`, in ms (e.g. +8h for Asia/Shanghai). */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of local midnight starting `date` in `timeZone`. */
export function zonedMidnight(date: LocalDate, timeZone: string): number {
  const naive = Date.UTC(date.year, date.month - 1, date.day);
  // Two passes settle the offset across a DST change.
  let guess = naive - offsetAt(naive, timeZone);
  guess = naive - offsetAt(guess, timeZone);
  return guess;
}

function addDays(d: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

const pad = (n: number) => String(n).padStart(2, '0');
const iso = (d: LocalDate) => `${d.year}-${pad(d.month)}-${pad(d.day)}`;

/** The period containing instant `now` (weeks start on Monday, ISO 8601). */
export function periodWindow(period: Period, now: number, timeZone: string): PeriodWindow {
  if (period === 'lifetime') return { key: 'life', startsAt: 0, resetsAt: null };
  const w = wallClock(now, timeZone);
  const today: LocalDate = { year: w.year, month: w.month, day: w.day };
  if (period === 'day') {
    return {
      key: `d${iso(today)}`,
      startsAt: zonedMidnight(today, timeZone),
      resetsAt: zonedMidnight(addDays(today, 1), timeZone),
    };
  }
  if (period === 'week') {
    const weekday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7; // Monday = 0
    const monday = addDays(today, -weekday);
    return {
      key: `w${iso(monday)}`,
      startsAt: zonedMidnight(monday, timeZone),
      resetsAt: zonedMidnight(addDays(monday, 7), timeZone),
    };
  }
  const first: LocalDate = { year: today.year, month: today.month, day: 1 };
  const next: LocalDate =
    today.month === 12
      ? { year: today.year + 1, month: 1, day: 1 }
      : { year: today.year, month: today.month + 1, day: 1 };
  return {
    key: `m${today.year}-${pad(today.month)}`,
    startsAt: zonedMidnight(first, timeZone),
    resetsAt: zonedMidnight(next, timeZone),
  };
}

/**
 * Period windows for "now", cached until the next boundary so the hot path does not format dates on
 * every request.
 */
export class PeriodClock {
  readonly #cache = new Map<Period, PeriodWindow>();

  constructor(private timeZone: string) {}

  setTimeZone(timeZone: string): void {
    if (timeZone === this.timeZone) return;
    this.timeZone = timeZone;
    this.#cache.clear();
  }

  get zone(): string {
    return this.timeZone;
  }

  window(period: Period, now: number): PeriodWindow {
    const cached = this.#cache.get(period);
    if (cached && now >= cached.startsAt && (cached.resetsAt === null || now < cached.resetsAt)) return cached;
    const fresh = periodWindow(period, now, this.timeZone);
    this.#cache.set(period, fresh);
    return fresh;
  }
}
