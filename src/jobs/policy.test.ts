import { describe, expect, it } from 'vitest';
import { backoffDelay, cronProblem, nextCronRun } from './policy.js';

describe('backoffDelay', () => {
  const policy = { baseMs: 1000, maxMs: 10_000 };
  it('doubles per attempt, with jitter between half and all of it', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(500);
    expect(backoffDelay(policy, 1, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 3, () => 1)).toBe(4000);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(3000);
  });
  it('never exceeds the cap', () => {
    expect(backoffDelay(policy, 30, () => 1)).toBe(10_000);
  });
});

describe('cron', () => {
  const now = Date.UTC(2026, 0, 15, 12, 30, 10);
  it('finds the next tick in UTC', () => {
    expect(nextCronRun('0 * * * *', now)).toBe(Date.UTC(2026, 0, 15, 13, 0, 0));
    expect(nextCronRun('*/5 * * * *', now)).toBe(Date.UTC(2026, 0, 15, 12, 35, 0));
  });
  it('refuses expressions that are malformed or never fire', () => {
    expect(cronProblem('0 * * * *', now)).toBeUndefined();
    expect(cronProblem('nonsense', now)).toMatch(/five fields/);
    expect(cronProblem('0 0 31 2 *', now)).toMatch(/never fires|not a cron/);
    expect(cronProblem('61 * * * *', now)).toMatch(/not a cron/);
  });
});
