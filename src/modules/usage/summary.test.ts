import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import { historyRange } from './summary.js';

const DAY_MS = 86_400_000;

describe('historyRange', () => {
  const now = 1_000 * DAY_MS;

  it('defaults to the 30 days up to now (inclusive)', () => {
    expect(historyRange({}, now)).toEqual({ from: now + 1 - 30 * DAY_MS, to: now + 1 });
  });

  it('counts 30 days back from a given end', () => {
    expect(historyRange({ to: 500 * DAY_MS }, now)).toEqual({ from: 470 * DAY_MS, to: 500 * DAY_MS });
  });

  it('keeps a range of exactly 400 days', () => {
    expect(historyRange({ from: 0, to: 400 * DAY_MS }, now)).toEqual({ from: 0, to: 400 * DAY_MS });
  });

  it.each([
    [{ from: 5, to: 5 }, 'from must be before to'],
    [{ from: 0, to: 400 * DAY_MS + 1 }, 'The range may span at most 400 days'],
  ])('refuses %j', (query, message) => {
    const refusal = (() => {
      try {
        historyRange(query, now);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({ code: 'validation_failed', message, param: 'from' });
  });
});
