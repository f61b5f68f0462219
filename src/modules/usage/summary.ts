import { type Expression, type Kysely, type SqlBool, sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../infra/db/schema.js';
import type { Period, PeriodClock } from '../limits/periods.js';
import type { LimitPolicy, ScopeType } from '../limits/policy.js';
import type { UsageRecorder } from './recorder.js';

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

const COLUMN = { key: 'key_id', user: 'user_id', team: 'team_id', org: 'org_id' } as const;
const DAY_MS = 86_400_000;
/** Days in each overview window, today included. */
const WINDOWS = { today: 1, week: 7, month: 30 } as const;
type Window = keyof typeof WINDOWS;
const WINDOW_NAMES = Object.keys(WINDOWS) as Window[];

/**
 * What a scope has used in its current periods, its daily series, and the instance-wide overview for admins,
 * read from the request log itself (after flushing the batch writer), so the numbers always match the records.
 */
export class UsageSummary {
  constructor(
    private readonly db: Kysely<Database>,
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
    const column = COLUMN[type];
    const row = await this.db
      .selectFrom('request_logs')
      .select((eb) => [
        eb.fn.countAll<number>().as('requests'),
        eb.fn
          .sum<number>(eb.case().when('at', '>=', spendWindow.startsAt).then(eb.ref('cost_micros')).else(0).end())
          .as('spend'),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when('at', '>=', tokenWindow.startsAt)
              .then(eb('prompt_tokens', '+', eb.ref('completion_tokens')))
              .else(0)
              .end(),
          )
          .as('tokens'),
      ])
      .where(column, '=', id)
      .where('at', '>=', since)
      .executeTakeFirst();
    const meter = (period: Period, used: number, limit: number | null, resetsAt: number | null): Meter => ({
      period,
      used,
      limit,
      remaining: limit === null ? null : Math.max(0, limit - used),
      resetsAt,
    });
    return {
      requests: Number(row?.requests ?? 0),
      spend: meter(limits.budgetPeriod, Number(row?.spend ?? 0), limits.budgetMicros, spendWindow.resetsAt),
      tokens: meter(limits.tokenQuotaPeriod, Number(row?.tokens ?? 0), limits.tokenQuota, tokenWindow.resetsAt),
      limits,
    };
  }

  /** Per UTC day and model, between `from` and `to` (epoch ms). */
  daily(type: ScopeType, id: string, from: number, to: number): Promise<DailyUsage[]> {
    return this.dailyWhere(from, to, { column: COLUMN[type], id });
  }

  /** Per UTC day and model across every user (or only `userId`), for admins. */
  dailyForAll(from: number, to: number, userId?: string): Promise<DailyUsage[]> {
    return this.dailyWhere(from, to, userId === undefined ? undefined : { column: 'user_id', id: userId });
  }

  /** Today, the last 7 and the last 30 UTC days across the instance, plus how many users and keys exist. */
  async overview(): Promise<UsageOverview> {
    await this.recorder.flush();
    const now = this.clock.now();
    const todayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const since = (window: Window) => todayStart - (WINDOWS[window] - 1) * DAY_MS;
    // One pass over the last 30 days (the `at` index); each window counts only its own rows.
    const row = await this.db
      .selectFrom('request_logs')
      .select((eb) =>
        WINDOW_NAMES.flatMap((window) => {
          const inWindow = eb('at', '>=', since(window));
          const sumIn = (value: Expression<number>, condition: Expression<SqlBool> = inWindow) =>
            eb.fn.sum<number>(eb.case().when(condition).then(value).else(0).end());
          return [
            sumIn(eb.lit(1)).as(`${window}_requests`),
            sumIn(eb.lit(1), eb.and([inWindow, eb('status', '>=', 400)])).as(`${window}_errors`),
            sumIn(eb.ref('prompt_tokens')).as(`${window}_prompt`),
            sumIn(eb.ref('completion_tokens')).as(`${window}_completion`),
            sumIn(eb.ref('cost_micros')).as(`${window}_cost`),
            // COUNT ignores the NULLs: rows outside the window, and master-key requests (no user).
            eb.fn
              .count<number>(eb.case().when(inWindow).then(eb.ref('user_id')).end())
              .distinct()
              .as(`${window}_users`),
          ];
        }),
      )
      .where('at', '>=', since('month'))
      .executeTakeFirst();
    const value = (name: string) => Number((row as Record<string, unknown> | undefined)?.[name] ?? 0);
    const totals = (window: Window): WindowTotals => ({
      requests: value(`${window}_requests`),
      errors: value(`${window}_errors`),
      promptTokens: value(`${window}_prompt`),
      completionTokens: value(`${window}_completion`),
      costMicros: value(`${window}_cost`),
      activeUsers: value(`${window}_users`),
    });

    const users = await this.db
      .selectFrom('users')
      .select((eb) => [
        eb.fn.countAll<number>().as('total'),
        eb.fn.sum<number>(eb.case().when('status', '=', 'active').then(1).else(0).end()).as('active'),
      ])
      .executeTakeFirst();
    const keys = await this.db
      .selectFrom('api_keys')
      .select((eb) => {
        const working = eb.and([
          eb('status', '=', 'active'),
          eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
        ]);
        return [
          eb.fn.countAll<number>().as('total'),
          eb.fn.sum<number>(eb.case().when(working).then(1).else(0).end()).as('active'),
        ];
      })
      .executeTakeFirst();
    return {
      today: totals('today'),
      week: totals('week'),
      month: totals('month'),
      users: { total: Number(users?.total ?? 0), active: Number(users?.active ?? 0) },
      keys: { total: Number(keys?.total ?? 0), active: Number(keys?.active ?? 0) },
    };
  }

  private async dailyWhere(
    from: number,
    to: number,
    scope: { column: (typeof COLUMN)[ScopeType]; id: string } | undefined,
  ): Promise<DailyUsage[]> {
    await this.recorder.flush();
    const day = sql<number>`(at / ${sql.lit(DAY_MS)})`;
    let query = this.db
      .selectFrom('request_logs')
      .select((eb) => [
        day.as('day'),
        'model',
        eb.fn.countAll<number>().as('requests'),
        eb.fn.sum<number>(eb.case().when('status', '>=', 400).then(1).else(0).end()).as('errors'),
        eb.fn.sum<number>('prompt_tokens').as('prompt'),
        eb.fn.sum<number>('completion_tokens').as('completion'),
        eb.fn.sum<number>('cached_tokens').as('cached'),
        eb.fn.sum<number>('cost_micros').as('cost'),
      ])
      .where('at', '>=', from)
      .where('at', '<', to);
    if (scope) query = query.where(scope.column, '=', scope.id);
    const rows = await query.groupBy([day, 'model']).orderBy(day).orderBy('model').execute();
    return rows.map((r) => ({
      date: new Date(Number(r.day) * DAY_MS).toISOString().slice(0, 10),
      model: r.model,
      requests: Number(r.requests),
      errors: Number(r.errors ?? 0),
      promptTokens: Number(r.prompt ?? 0),
      completionTokens: Number(r.completion ?? 0),
      cachedTokens: Number(r.cached ?? 0),
      costMicros: Number(r.cost ?? 0),
    }));
  }
}
