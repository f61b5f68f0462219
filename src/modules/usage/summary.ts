import { type Kysely, sql } from 'kysely';
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

const COLUMN = { key: 'key_id', user: 'user_id', team: 'team_id', org: 'org_id' } as const;
const DAY_MS = 86_400_000;

/**
 * What a scope has used in its current periods, read from the request log itself (after flushing the
 * batch writer), so the numbers always match the records.
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
  async daily(type: ScopeType, id: string, from: number, to: number): Promise<DailyUsage[]> {
    await this.recorder.flush();
    const day = sql<number>`(at / ${sql.lit(DAY_MS)})`;
    const rows = await this.db
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
      .where(COLUMN[type], '=', id)
      .where('at', '>=', from)
      .where('at', '<', to)
      .groupBy([day, 'model'])
      .orderBy(day)
      .orderBy('model')
      .execute();
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
