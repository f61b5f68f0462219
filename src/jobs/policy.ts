import { CronExpressionParser } from 'cron-parser';
import type { BackoffPolicy } from './types.js';

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 300_000 };

/**
 * Delay before the attempt after `failedAttempt` (1-based): exponential (`baseMs · 2^(n-1)`, capped at `maxMs`)
 * with "equal jitter" — half fixed, half random — so jobs that failed together do not all come back together.
 */
export function backoffDelay(policy: BackoffPolicy, failedAttempt: number, random: () => number): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failedAttempt - 1));
  const half = exponential / 2;
  return Math.round(half + half * random());
}

/** Why a cron expression cannot be used, or undefined when it can. */
export function cronProblem(expression: string, now: number): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `"${expression}" must have five fields: minute hour day-of-month month day-of-week`;
  try {
    nextCronRun(expression, now);
    return undefined;
  } catch (error) {
    return `"${expression}" ${error instanceof Error && /never|no valid|Invalid explicit/i.test(error.message) ? 'never fires' : `is not a cron expression: ${error instanceof Error ? error.message : String(error)}`}`;
  }
}

/** The first instant (epoch ms, UTC) strictly after `after` at which the expression fires. */
export function nextCronRun(expression: string, after: number): number {
  const parsed = CronExpressionParser.parse(expression, { currentDate: new Date(after), tz: 'UTC' });
  return parsed.next().getTime();
}
