import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { Database } from '../../infra/db/schema.js';
import type { CounterStore, ReserveItem } from '../../infra/state/counters.js';
import type { RateKind, RateLimits, RateResult } from '../../infra/state/rate-limits.js';
import type { Period, PeriodClock, PeriodWindow } from './periods.js';
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

const RATE_KINDS = ['rpm', 'tpm'] as const;
/** OpenAI's x-ratelimit-* header names per rate kind (built once: a template literal per request shows in profiles). */
const RATE_HEADERS = (['rpm', 'tpm'] as const).map((kind) => {
  const suffix = kind === 'rpm' ? 'requests' : 'tokens';
  return {
    kind,
    limit: `x-ratelimit-limit-${suffix}`,
    remaining: `x-ratelimit-remaining-${suffix}`,
    reset: `x-ratelimit-reset-${suffix}`,
  };
});
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

/** Counter keys of one level, built once (and once a period for the period counters), not per request. */
interface ScopeKeys {
  rate: string;
  concurrency: string;
  spendWindow: PeriodWindow | undefined;
  spend: string;
  tokensWindow: PeriodWindow | undefined;
  tokens: string;
}

/** Levels whose keys are remembered; beyond this the memo starts over (it only saves string building). */
const MAX_REMEMBERED_SCOPES = 50_000;

/** What each reserved counter is, for settlement. */
type CounterKind = 'concurrency' | 'spend' | 'tokens';

/**
 * Enforces rate limits, concurrency, budgets and token quotas on every level of a request before it is
 * sent upstream, and settles the reservation to the actual cost afterwards. A request must fit every level.
 */
export class LimitEnforcer {
  /** Counters known to exist (loaded from the request log once per process). */
  readonly #initialised = new Set<string>();
  readonly #keys: Record<ScopeType, Map<string, ScopeKeys>> = {
    key: new Map(),
    user: new Map(),
    team: new Map(),
    org: new Map(),
  };

  constructor(private readonly deps: EnforcerDeps) {}

  async admit(scopes: Scope[], estimate: () => Estimate): Promise<Admission> {
    if (scopes.length === 0) return NOTHING;
    const est = estimate();
    const now = this.deps.clock.now();

    // 1. Requests and tokens per minute. Every window is taken at once (with Redis the commands go out in one
    // pipeline, one round trip); if any refuses, all are given back and the first refusal, in level order, is
    // the answer.
    const taken: Taken[] = [];
    const scopeOf: Scope[] = [];
    for (const scope of scopes) {
      const p = scope.policy;
      if (p.rpm === null && p.tpm === null) continue;
      const key = this.keysOf(scope).rate;
      for (const kind of RATE_KINDS) {
        const limit = p[kind];
        if (limit === null) continue;
        taken.push({ kind, key, limit, points: kind === 'rpm' ? 1 : est.tokens });
        scopeOf.push(scope);
      }
    }
    const results: Array<{ kind: RateKind; result: RateResult }> = [];
    if (taken.length > 0) {
      const answers = await Promise.all(taken.map((t) => this.deps.rates.consume(t.kind, t.key, t.limit, t.points)));
      const refused = answers.findIndex((a) => !a.allowed);
      if (refused >= 0) {
        // rate-limiter-flexible counts a refused consume too: every window gets its points back.
        await this.refundRates(taken);
        const t = taken[refused] as Taken;
        const scope = scopeOf[refused] as Scope;
        const resetMs = (answers[refused] as RateResult).resetMs;
        const what = t.kind === 'rpm' ? 'requests per minute' : 'tokens per minute';
        throw new ApiError(
          'rate_limit_exceeded',
          `${SCOPE_WORDS[scope.type]} limit of ${t.limit} ${what} is reached; retry after ${Math.ceil(resetMs / 1000)}s`,
          { retryAfterSeconds: Math.max(1, Math.ceil(resetMs / 1000)) },
        );
      }
      for (let i = 0; i < taken.length; i++)
        results.push({ kind: (taken[i] as Taken).kind, result: answers[i] as RateResult });
    }

    // 2. Concurrency, spend and tokens: one all-or-nothing reservation. Spend and tokens are counted on
    // every level (limited or not) so a limit added later starts from the true figure.
    const items: ReserveItem[] = [];
    const kinds: CounterKind[] = [];
    for (const scope of scopes) {
      const p = scope.policy;
      const keys = this.keysOf(scope);
      if (p.maxConcurrency !== null) {
        items.push({ key: keys.concurrency, amount: 1, limit: p.maxConcurrency, ttlMs: CONCURRENCY_TTL_MS });
        kinds.push('concurrency');
      }
      const spend = this.deps.periods.window(p.budgetPeriod, now);
      if (keys.spendWindow !== spend) {
        keys.spend = spendKey(scope, spend.key);
        keys.spendWindow = spend;
      }
      if (!this.#initialised.has(keys.spend))
        await this.ensure(keys.spend, scope, 'cost', spend.startsAt, spend.resetsAt, now);
      items.push({
        key: keys.spend,
        amount: est.costMicros,
        limit: p.budgetMicros,
        ttlMs: ttlFor(spend.resetsAt, now),
      });
      kinds.push('spend');
      const tokens = this.deps.periods.window(p.tokenQuotaPeriod, now);
      if (keys.tokensWindow !== tokens) {
        keys.tokens = tokensKey(scope, tokens.key);
        keys.tokensWindow = tokens;
      }
      if (!this.#initialised.has(keys.tokens))
        await this.ensure(keys.tokens, scope, 'tokens', tokens.startsAt, tokens.resetsAt, now);
      items.push({ key: keys.tokens, amount: est.tokens, limit: p.tokenQuota, ttlMs: ttlFor(tokens.resetsAt, now) });
      kinds.push('tokens');
    }
    const failed = await this.deps.counters.reserve(items);
    if (failed >= 0) {
      await this.refundRates(taken);
      throw this.refusal(scopes, kinds, failed, now);
    }

    const headers = rateHeaders(results);
    let settled = false;
    return {
      headers,
      settle: (costMicros, tokens) => {
        if (settled) return;
        settled = true;
        void this.settle(items, kinds, taken, est, costMicros, tokens).catch(() => undefined);
      },
    };
  }

  /** The keys of a level's counters (remembered between requests). */
  private keysOf(scope: Scope): ScopeKeys {
    const memo = this.#keys[scope.type];
    let keys = memo.get(scope.id);
    if (!keys) {
      if (memo.size >= MAX_REMEMBERED_SCOPES) memo.clear();
      keys = {
        rate: `${scope.type}:${scope.id}`,
        concurrency: `conc:${scope.type}:${scope.id}`,
        spendWindow: undefined,
        spend: '',
        tokensWindow: undefined,
        tokens: '',
      };
      memo.set(scope.id, keys);
    }
    return keys;
  }

  /** Give back the rate points a refused request took. */
  private async refundRates(taken: Taken[]): Promise<void> {
    await Promise.all(
      taken.map((t) => this.deps.rates.refund(t.kind, t.key, t.limit, t.points).catch(() => undefined)),
    );
  }

  /** The error for the reservation item that did not fit (items are concurrency?, spend, tokens per level). */
  private refusal(scopes: Scope[], kinds: CounterKind[], failed: number, now: number): ApiError {
    let index = 0;
    for (const scope of scopes) {
      const p = scope.policy;
      const count = p.maxConcurrency !== null ? 3 : 2;
      if (failed >= index + count) {
        index += count;
        continue;
      }
      const what = kinds[failed] as CounterKind;
      if (what === 'concurrency') {
        return new ApiError(
          'rate_limit_exceeded',
          `${SCOPE_WORDS[scope.type]} limit of ${p.maxConcurrency} concurrent requests is reached; retry when one finishes`,
          { retryAfterSeconds: 1 },
        );
      }
      const period = what === 'spend' ? p.budgetPeriod : p.tokenQuotaPeriod;
      const resetsAt = this.deps.periods.window(period, now).resetsAt;
      const retry = resetsAt === null ? undefined : Math.max(1, Math.ceil((resetsAt - now) / 1000));
      const noun = what === 'spend' ? 'budget' : 'token quota';
      return new ApiError(
        'insufficient_quota',
        `${SCOPE_WORDS[scope.type]} ${PERIOD_WORDS[period]} ${noun} is used up${resetsAt === null ? '' : `; it resets at ${new Date(resetsAt).toISOString()}`}`,
        {
          retryAfterSeconds: retry,
        },
      );
    }
    return new ApiError('internal_error', 'limits reservation failed');
  }

  private async settle(
    items: ReserveItem[],
    kinds: CounterKind[],
    taken: Taken[],
    est: Estimate,
    cost: number,
    tokens: number,
  ): Promise<void> {
    const changes = new Array<{ key: string; amount: number; ttlMs: number | null }>(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as ReserveItem;
      const kind = kinds[i];
      changes[i] = {
        key: item.key,
        ttlMs: item.ttlMs,
        amount: kind === 'concurrency' ? -1 : kind === 'spend' ? cost - est.costMicros : tokens - est.tokens,
      };
    }
    // All at once: with Redis, one pipeline.
    const done: Array<Promise<void>> = [this.deps.counters.addAll(changes)];
    for (const t of taken) {
      if (t.kind !== 'tpm') continue;
      if (tokens < t.points) done.push(this.deps.rates.refund('tpm', t.key, t.limit, t.points - tokens));
      else done.push(this.deps.rates.charge('tpm', t.key, t.limit, tokens - t.points));
    }
    await Promise.all(done);
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
  for (const names of RATE_HEADERS) {
    let tightest: RateResult | undefined;
    for (const r of results)
      if (r.kind === names.kind && (tightest === undefined || r.result.remaining < tightest.remaining))
        tightest = r.result;
    if (!tightest) continue;
    headers[names.limit] = String(tightest.limit);
    headers[names.remaining] = String(tightest.remaining);
    headers[names.reset] = `${Math.max(0, Math.ceil(tightest.resetMs / 1000))}s`;
  }
  return headers;
}
