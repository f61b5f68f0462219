import { describe, expect, it } from 'vitest';
import { isValidTimeZone, PeriodClock, periodWindow } from './periods.js';

describe('periodWindow', () => {
  const t = Date.UTC(2026, 10, 22, 15, 30); // Sun 2026-11-22 15:30 UTC

  it('cuts days, ISO weeks and months at UTC midnight', () => {
    expect(periodWindow('day', t, 'UTC')).toEqual({
      key: 'd2026-11-22',
      startsAt: Date.UTC(2026, 10, 22),
      resetsAt: Date.UTC(2026, 10, 23),
    });
    expect(periodWindow('week', t, 'UTC')).toEqual({
      key: 'w2026-11-16',
      startsAt: Date.UTC(2026, 10, 16),
      resetsAt: Date.UTC(2026, 10, 23),
    });
    expect(periodWindow('month', t, 'UTC')).toEqual({
      key: 'm2026-11',
      startsAt: Date.UTC(2026, 10, 1),
      resetsAt: Date.UTC(2026, 11, 1),
    });
    expect(periodWindow('lifetime', t, 'UTC')).toEqual({ key: 'life', startsAt: 0, resetsAt: null });
  });

  it('cuts at local midnight in another time zone', () => {
    // 2026-11-22 17:00 UTC is already 2026-11-23 01:00 in Shanghai (UTC+8).
    const late = Date.UTC(2026, 10, 22, 17, 0);
    const day = periodWindow('day', late, 'Asia/Shanghai');
    expect(day.key).toBe('d2026-11-23');
    expect(day.startsAt).toBe(Date.UTC(2026, 10, 22, 16, 0));
    expect(day.resetsAt).toBe(Date.UTC(2026, 10, 23, 16, 0));
    expect(periodWindow('week', late, 'Asia/Shanghai').key).toBe('w2026-11-23');
  });

  it('rolls the month over at the year end', () => {
    const w = periodWindow('month', Date.UTC(2026, 11, 31, 23, 0), 'UTC');
    expect(w.key).toBe('m2026-12');
    expect(w.resetsAt).toBe(Date.UTC(2027, 0, 1));
  });

  it('handles a daylight-saving change (a 23-hour day in New York)', () => {
    const w = periodWindow('day', Date.UTC(2026, 2, 8, 12), 'America/New_York'); // DST starts 2026-03-08
    expect(w.key).toBe('d2026-03-08');
    expect(w.startsAt).toBe(Date.UTC(2026, 2, 8, 5));
    expect(w.resetsAt).toBe(Date.UTC(2026, 2, 9, 4));
  });

  it('validates time zones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('PeriodClock', () => {
  it('serves the cached window until the boundary, then the next one', () => {
    const clock = new PeriodClock('UTC');
    const a = clock.window('day', Date.UTC(2026, 0, 1, 23, 59));
    expect(clock.window('day', Date.UTC(2026, 0, 1, 23, 59, 59))).toBe(a);
    expect(clock.window('day', Date.UTC(2026, 0, 2)).key).toBe('d2026-01-02');
    clock.setTimeZone('Asia/Tokyo');
    expect(clock.window('day', Date.UTC(2026, 0, 2, 16)).key).toBe('d2026-01-03');
  });
});
