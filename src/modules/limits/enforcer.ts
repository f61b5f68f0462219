import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { Database } from '../../infra/db/schema.js';
import type { CounterStore, ReserveItem } from '../../infra/state/counters.js';
import type { RateKind, RateLimits, RateResult } from '../../infra/state/rate-limits.js';
import type { Period, PeriodClock } from './periods.js';
import type { LimitPolicy, ScopeType } from './policy.js';

/** One level a request belongs to, with its limits. */
export interface Scope {
  type: ScopeType;
  id: string;
  policy: LimitPolicy;
}

export interface Estimate {
  /** Tokens to reserve (prompt + the most the answer may use). */
  tokens: number;
  /** Cost to reserve, micro-USD. */
  costMicros: number;
}

/** What an admitted request holds until it settles. */
export interface Admission {
  /** `x-ratelimit-*` headers for the answer. */
  headers: Record<string, string>;
  /** Replace the reservation by the actual cost and tokens; release the concurrency slot. Never throws. */
  settle(costMicros: number, tokens: number): void;
}

interface Taken {
  kind: RateKind;
  key: string;
  limit: number;
  points: number;
}

const NOTHING: Admission = { headers: {}, settle: () => undefined };
const CONCURRENCY_TTL_MS = 15 * 60_000;
const COUNTER_MARGIN_MS = 24 * 3_600_000;

const LOG_COLUMN = { key: 'key_id', user: 'user_id', team: 'team_id', org: 'org_id' } as const;
const SCOPE_WORDS: Record<ScopeType, string> = {
  key: "This API key's",
  user: 'Your',
  team: "Your team's",
  org: "Your organization's",
};
const PERIOD_WORDS: Record<Period, string> = { day: 'daily', week: 'weekly', month: 'monthly', lifetime: 'lifetime' };

export interface EnforcerDeps {
  /** Write pending request logs before a counter is rebuilt from them. */
  flushLog?: () => Promise<void>;
  counters: CounterStore;
  rates: RateLimits;
  periods: PeriodClock;
  clock: Clock;
  db: Kysely<Database>;
}

export function spendKey(scope: Pick<Scope, 'type' | 'id'>, periodKey: string): string {
  return `spend:${scope.type}:${scope.id}:${periodKey}`;
}
export function tokensKey(scope: Pick<Scope, 'type' | 'id'>, periodKey: string): string {
  return `tok:${scope.type}:${scope.id}:${periodKey}`;
}

/**
 * Enforces rate limits, concurrency, budgets and token quotas on every level of a request before it is
 * sent upstream, and settles the reservation to the actual cost afterwards. A request must fit every level.
 */
export class LimitEnforcer {
  /** Counters known to exist (loaded from the request log once per process). */
  readonly #initialised = new Set<string>();

  constructor(private readonly deps: EnforcerDeps) {}

  async admit(scopes: Scope[], estimate: () => Estimate): Promise<Admission> {
    if (scopes.length === 0) return NOTHING;
    const est = estimate();
    const now = this.deps.clock.now();
    const limited = scopes.filter(
      (s) => s.policy.rpm !== null || s.policy.tpm !== null || s.policy.maxConcurrency !== null,
    );

    // 1. Requests and tokens per minute.
    const taken: Taken[] = [];
    const results: Array<{ kind: RateKind; result: RateResult }> = [];
    const refundRates = async () => {
      for (const t of taken) await this.deps.rates.refund(t.kind, t.key, t.limit, t.points).catch(() => undefined);
    };
    for (const scope of limited) {
      for (const kind of ['rpm', 'tpm'] as const) {
        const limit = scope.policy[kind];
        if (limit === null) continue;
        const points = kind === 'rpm' ? 1 : est.tokens;
        const key = `${scope.type}:${scope.id}`;
        const result = await this.deps.rates.consume(kind, key, limit, points);
        if (!result.allowed) {
          // rate-limiter-flexible counts a refused consume too: give those points back as well.
          await this.deps.rates.refund(kind, key, limit, points).catch(() => undefined);
          await refundRates();
          const what = kind === 'rpm' ? 'requests per minute' : 'tokens per minute';
          throw new ApiError(
            'rate_limit_exceeded',
            `${SCOPE_WORDS[scope.type]} limit of ${limit} ${what} is reached; retry after ${Math.ceil(result.resetMs / 1000)}s`,
            {
              retryAfterSeconds: Math.max(1, Math.ceil(result.resetMs / 1000)),
            },
          );
        }
        taken.push({ kind, key, limit, points });
        results.push({ kind, result });
      }
    }

    // 2. Concurrency, spend and tokens: one all-or-nothing reservation. Spend and tokens are counted on
    // every level (limited or not) so a limit added later starts from the true figure.
    const items: ReserveItem[] = [];
    const describe: Array<{ scope: Scope; what: 'concurrency' | 'budget' | 'tokens'; resetsAt: number | null }> = [];
    for (const scope of scopes) {
      const p = scope.policy;
      if (p.maxConcurrency !== null) {
        items.push({
          key: `conc:${scope.type}:${scope.id}`,
          amount: 1,
          limit: p.maxConcurrency,
          ttlMs: CONCURRENCY_TTL_MS,
        });
        describe.push({ scope, what: 'concurrency', resetsAt: null });
      }
      const spend = this.deps.periods.window(p.budgetPeriod, now);
      const spendCounter = spendKey(scope, spend.key);
      await this.ensure(spendCounter, scope, 'cost', spend.startsAt, spend.resetsAt, now);
      items.push({
        key: spendCounter,
        amount: est.costMicros,
        limit: p.budgetMicros,
        ttlMs: ttlFor(spend.resetsAt, now),
      });
      describe.push({ scope, what: 'budget', resetsAt: spend.resetsAt });
      const tokens = this.deps.periods.window(p.tokenQuotaPeriod, now);
      const tokenCounter = tokensKey(scope, tokens.key);
      await this.ensure(tokenCounter, scope, 'tokens', tokens.startsAt, tokens.resetsAt, now);
      items.push({ key: tokenCounter, amount: est.tokens, limit: p.tokenQuota, ttlMs: ttlFor(tokens.resetsAt, now) });
      describe.push({ scope, what: 'tokens', resetsAt: tokens.resetsAt });
    }
    const failed = await this.deps.counters.reserve(items);
    if (failed >= 0) {
      await refundRates();
      const d = describe[failed] as (typeof describe)[number];
      if (d.what === 'concurrency') {
        throw new ApiError(
          'rate_limit_exceeded',
          `${SCOPE_WORDS[d.scope.type]} limit of ${d.scope.policy.maxConcurrency} concurrent requests is reached; retry when one finishes`,
          { retryAfterSeconds: 1 },
        );
      }
      const period = d.what === 'budget' ? d.scope.policy.budgetPeriod : d.scope.policy.tokenQuotaPeriod;
      const retry = d.resetsAt === null ? undefined : Math.max(1, Math.ceil((d.resetsAt - now) / 1000));
      const noun = d.what === 'budget' ? 'budget' : 'token quota';
      throw new ApiError(
        'insufficient_quota',
        `${SCOPE_WORDS[d.scope.type]} ${PERIOD_WORDS[period]} ${noun} is used up${d.resetsAt === null ? '' : `; it resets at ${new Date(d.resetsAt).toISOString()}`}`,
        {
          retryAfterSeconds: retry,
        },
      );
    }

    const headers = rateHeaders(results);
    let settled = false;
    return {
      headers,
      settle: (costMicros, tokens) => {
        if (settled) return;
        settled = true;
        void this.settle(items, taken, est, costMicros, tokens).catch(() => undefined);
      },
    };
  }

  private async settle(
    items: ReserveItem[],
    taken: Taken[],
    est: Estimate,
    cost: number,
    tokens: number,
  ): Promise<void> {
    await this.deps.counters.addAll(
      items.map((item) => ({
        key: item.key,
        ttlMs: item.ttlMs,
        amount: item.key.startsWith('conc:')
          ? -1
          : item.key.startsWith('spend:')
            ? cost - est.costMicros
            : tokens - est.tokens,
      })),
    );
    for (const t of taken) {
      if (t.kind !== 'tpm') continue;
      if (tokens < t.points) await this.deps.rates.refund('tpm', t.key, t.limit, t.points - tokens);
      else await this.deps.rates.charge('tpm', t.key, t.limit, tokens - t.points);
    }
  }

  /** Current value of a period counter (loading it from the request log if this process never saw it). */
  async current(
    scope: Pick<Scope, 'type' | 'id'>,
    what: 'cost' | 'tokens',
    period: Period,
  ): Promise<{ used: number; resetsAt: number | null }> {
    const now = this.deps.clock.now();
    const w = this.deps.periods.window(period, now);
    const key = what === 'cost' ? spendKey(scope, w.key) : tokensKey(scope, w.key);
    await this.ensure(key, scope, what, w.startsAt, w.resetsAt, now);
    const [used] = await this.deps.counters.get([key]);
    return { used: used ?? 0, resetsAt: w.resetsAt };
  }

  private async ensure(
    key: string,
    scope: Pick<Scope, 'type' | 'id'>,
    what: 'cost' | 'tokens',
    startsAt: number,
    resetsAt: number | null,
    now: number,
  ): Promise<void> {
    if (this.#initialised.has(key)) return;
    if (!(await this.deps.counters.exists(key))) {
      await this.deps.flushLog?.();
      const column = LOG_COLUMN[scope.type];
      const row = await this.deps.db
        .selectFrom('request_logs')
        .select((eb) =>
          what === 'cost'
            ? eb.fn.sum<number>('cost_micros').as('n')
            : eb.fn.sum<number>(eb('prompt_tokens', '+', eb.ref('completion_tokens'))).as('n'),
        )
        .where(column, '=', scope.id)
        .where('at', '>=', startsAt)
        .executeTakeFirst();
      await this.deps.counters.init(key, Number(row?.n ?? 0), ttlFor(resetsAt, now));
    }
    this.#initialised.add(key);
  }
}

function ttlFor(resetsAt: number | null, now: number): number | null {
  return resetsAt === null ? null : Math.max(1, resetsAt - now) + COUNTER_MARGIN_MS;
}

/** OpenAI-style headers from the tightest request and token windows. */
function rateHeaders(results: Array<{ kind: RateKind; result: RateResult }>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [kind, suffix] of [
    ['rpm', 'requests'],
    ['tpm', 'tokens'],
  ] as const) {
    const tightest = results.filter((r) => r.kind === kind).sort((a, b) => a.result.remaining - b.result.remaining)[0];
    if (!tightest) continue;
    headers[`x-ratelimit-limit-${suffix}`] = String(tightest.result.limit);
    headers[`x-ratelimit-remaining-${suffix}`] = String(tightest.result.remaining);
    headers[`x-ratelimit-reset-${suffix}`] = `${Math.max(0, Math.ceil(tightest.result.resetMs / 1000))}s`;
  }
  return headers;
}
