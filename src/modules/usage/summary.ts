import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { Period, PeriodClock } from '../limits/periods.js';
import type { LimitPolicy, ScopeType } from '../limits/policy.js';
import type { UsageRecorder } from './recorder.js';
import { type DailyRow, SCOPE_COLUMN, type UsageRepository, type UsageScope } from './repository.js';

export interface Meter {
  period: Period;
  used: number;
  limit: number | null;
  remaining: number | null;
  /** Epoch ms when the period resets (null for lifetime). */
  resetsAt: number | null;
}

export interface ScopeUsage {
  requests: number;
  /** Spend in the budget period, micro-USD. */
  spend: Meter;
  /** Tokens (prompt + completion) in the token-quota period. */
  tokens: Meter;
  limits: LimitPolicy;
}

export interface DailyUsage {
  /** UTC day, YYYY-MM-DD. */
  date: string;
  model: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costMicros: number;
}

/** Requests and what they used in one window of the admin overview. */
export interface WindowTotals {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
  /** Distinct users with at least one request in the window (master-key requests have no user). */
  activeUsers: number;
  /** Requests answered from the response cache, and those that asked it in vain. */
  cacheHits: number;
  cacheMisses: number;
}

/** The admin dashboard's headline numbers. */
export interface UsageOverview {
  /** Since the start of the current UTC day. */
  today: WindowTotals;
  /** The last 7 UTC days, today included. */
  week: WindowTotals;
  /** The last 30 UTC days, today included. */
  month: WindowTotals;
  /** Accounts: all of them, and those with status active. */
  users: { total: number; active: number };
  /** API keys: all of them (revoked included), and those that work now (active and not expired). */
  keys: { total: number; active: number };
}

const DAY_MS = 86_400_000;
/** Days in each overview window, today included. */
const WINDOWS = { today: 1, week: 7, month: 30 } as const;
type Window = keyof typeof WINDOWS;

/**
 * What a scope has used in its current periods, its daily series, and the instance-wide overview for admins,
 * read from the request log itself (after flushing the batch writer), so the numbers always match the records.
 */
export class UsageSummary {
  constructor(
    private readonly repo: UsageRepository,
    private readonly recorder: UsageRecorder,
    private readonly periods: PeriodClock,
    private readonly clock: Clock,
  ) {}

  async forScope(type: ScopeType, id: string, limits: LimitPolicy): Promise<ScopeUsage> {
    await this.recorder.flush();
    const now = this.clock.now();
    const spendWindow = this.periods.window(limits.budgetPeriod, now);
    const tokenWindow = this.periods.window(limits.tokenQuotaPeriod, now);
    const since = Math.min(spendWindow.startsAt, tokenWindow.startsAt);
    const totals = await this.repo.scopeTotals(
      SCOPE_COLUMN[type],
      id,
      since,
      spendWindow.startsAt,
      tokenWindow.startsAt,
    );
    const meter = (period: Period, used: number, limit: number | null, resetsAt: number | null): Meter => ({
      period,
      used,
      limit,
      remaining: limit === null ? null : Math.max(0, limit - used),
      resetsAt,
    });
    return {
      requests: totals.requests,
      spend: meter(limits.budgetPeriod, totals.spend, limits.budgetMicros, spendWindow.resetsAt),
      tokens: meter(limits.tokenQuotaPeriod, totals.tokens, limits.tokenQuota, tokenWindow.resetsAt),
      limits,
    };
  }

  /** Per UTC day and model, between `from` and `to` (epoch ms); only in `orgId` when given. */
  daily(type: ScopeType, id: string, from: number, to: number, orgId?: string): Promise<DailyUsage[]> {
    const scope: UsageScope = { filters: [{ column: SCOPE_COLUMN[type], id }] };
    if (orgId !== undefined) scope.org = { id: orgId, instanceWide: false };
    return this.dailyWhere(from, to, scope);
  }

  /**
   * Per UTC day and model across an organization (or only `userId`'s requests in it); with `instanceWide`,
   * the requests of no organization (the master key's) too.
   */
  dailyForOrg(orgId: string, from: number, to: number, userId?: string, instanceWide = false): Promise<DailyUsage[]> {
    const scope: UsageScope = { org: { id: orgId, instanceWide }, filters: [] };
    if (userId !== undefined) scope.filters.push({ column: 'user_id', id: userId });
    return this.dailyWhere(from, to, scope);
  }

  /**
   * Today, the last 7 and the last 30 UTC days in one organization (with `instanceWide`, and the requests of
   * none), plus how many members and keys it has.
   */
  async overview(orgId: string, instanceWide = false): Promise<UsageOverview> {
    await this.recorder.flush();
    const now = this.clock.now();
    const todayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const since = (window: Window) => todayStart - (WINDOWS[window] - 1) * DAY_MS;
    const sums = await this.repo.windowSums(
      { today: since('today'), week: since('week'), month: since('month') },
      { id: orgId, instanceWide },
    );
    const totals = (window: Window): WindowTotals => ({
      requests: sums[window].requests,
      errors: sums[window].errors,
      promptTokens: sums[window].prompt,
      completionTokens: sums[window].completion,
      costMicros: sums[window].cost,
      activeUsers: sums[window].users,
      cacheHits: sums[window].cacheHits,
      cacheMisses: sums[window].cacheMisses,
    });
    return {
      today: totals('today'),
      week: totals('week'),
      month: totals('month'),
      users: await this.repo.userCounts(orgId),
      keys: await this.repo.keyCounts(now, orgId),
    };
  }

  private async dailyWhere(from: number, to: number, scope: UsageScope): Promise<DailyUsage[]> {
    await this.recorder.flush();
    const rows = await this.repo.daily(from, to, scope);
    return rows.map(toDailyUsage);
  }
}

function toDailyUsage(r: DailyRow): DailyUsage {
  return {
    date: new Date(r.day * DAY_MS).toISOString().slice(0, 10),
    model: r.model,
    requests: r.requests,
    errors: r.errors,
    promptTokens: r.prompt,
    completionTokens: r.completion,
    cachedTokens: r.cached,
    costMicros: r.cost,
  };
}

/** The `[from, to)` of a history query: the last 30 days by default, at most 400 days. */
export function historyRange(
  query: { from?: number | undefined; to?: number | undefined },
  now: number,
): { from: number; to: number } {
  const to = query.to ?? now + 1;
  const from = query.from ?? to - 30 * DAY_MS;
  if (from >= to) throw new ApiError('validation_failed', 'from must be before to', { param: 'from' });
  if (to - from > 400 * DAY_MS)
    throw new ApiError('validation_failed', 'The range may span at most 400 days', { param: 'from' });
  return { from, to };
}
