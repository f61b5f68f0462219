import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { Admission as AdmissionPort } from '../../gateway/ports.js';
import type { Database } from '../../infra/db/schema.js';
import type { CounterChange, CounterStore, ReserveItem, WindowItem, WindowState } from '../../infra/state/counters.js';
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

type RateKind = 'rpm' | 'tpm';

/** A rate window a request takes from: which kind, at which level. */
interface RateWindow extends WindowItem {
  kind: RateKind;
  scope: Scope;
}

/** Requests and tokens per minute are fixed windows that start with their first request. */
const RATE_WINDOW_MS = 60_000;
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
  rpm: string;
  tpm: string;
  concurrency: string;
  cost: PeriodCounter;
  tokens: PeriodCounter;
}

/** A level's spend or token counter: the current period's key, and the period it was last charged in. */
interface PeriodCounter {
  what: 'cost' | 'tokens';
  window: PeriodWindow | undefined;
  key: string;
  /** A change of period makes the new period's counter suspect (it missed what was charged meanwhile). */
  period: Period | undefined;
}

/** Levels whose keys are remembered; beyond this the memo starts over (it only saves string building). */
const MAX_REMEMBERED_SCOPES = 50_000;

/** What each reserved counter is, for settlement. */
type CounterKind = 'concurrency' | 'spend' | 'tokens';

/**
 * Enforces rate limits, concurrency, budgets and token quotas on every level of a request before it is
 * sent upstream, and settles the reservation to the actual cost afterwards. A request must fit every level.
 */
export class LimitEnforcer implements AdmissionPort {
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

    // Requests and tokens per minute, concurrency, spend and tokens per period: taken all or nothing in one
    // operation (with Redis one script, one round trip). Spend and tokens are counted on every level (limited
    // or not) so a limit added later starts from the true figure.
    const windows: RateWindow[] = [];
    const items: ReserveItem[] = [];
    const kinds: CounterKind[] = [];
    const tokenPoints = Math.max(0, Math.round(est.tokens));
    for (const scope of scopes) {
      const p = scope.policy;
      const keys = this.keysOf(scope);
      if (p.rpm !== null)
        windows.push({ kind: 'rpm', scope, key: keys.rpm, points: 1, limit: p.rpm, windowMs: RATE_WINDOW_MS });
      if (p.tpm !== null)
        windows.push({
          kind: 'tpm',
          scope,
          key: keys.tpm,
          points: tokenPoints,
          limit: p.tpm,
          windowMs: RATE_WINDOW_MS,
        });
      if (p.maxConcurrency !== null) {
        items.push({ key: keys.concurrency, amount: 1, limit: p.maxConcurrency, ttlMs: CONCURRENCY_TTL_MS });
        kinds.push('concurrency');
      }
      const spendCheck = this.periodItem(scope, keys.cost, p.budgetPeriod, est.costMicros, p.budgetMicros, now, items);
      if (spendCheck) await spendCheck;
      kinds.push('spend');
      const tokensCheck = this.periodItem(scope, keys.tokens, p.tokenQuotaPeriod, est.tokens, p.tokenQuota, now, items);
      if (tokensCheck) await tokensCheck;
      kinds.push('tokens');
    }
    const { failed, windows: states } = await this.deps.counters.take(windows, items);
    if (failed >= 0) {
      if (failed >= windows.length) {
        throw this.refusal(scopes, kinds, failed - windows.length, now, rateHeaders(windows, states));
      }
      // A refused window is reported as used up, whatever a smaller request could still get.
      const w = windows[failed] as RateWindow;
      const resetMs = (states[failed] as WindowState).resetMs;
      states[failed] = { used: w.limit, resetMs };
      const what = w.kind === 'rpm' ? 'requests per minute' : 'tokens per minute';
      throw new ApiError(
        'rate_limit_exceeded',
        `${SCOPE_WORDS[w.scope.type]} limit of ${w.limit} ${what} is reached; retry after ${Math.ceil(resetMs / 1000)}s`,
        { retryAfterSeconds: Math.max(1, Math.ceil(resetMs / 1000)), headers: rateHeaders(windows, states) },
      );
    }

    const headers = rateHeaders(windows, states);
    let settled = false;
    return {
      headers,
      settle: (costMicros, tokens) => {
        if (settled) return;
        settled = true;
        void this.settle(items, kinds, windows, states, now, est, costMicros, tokens).catch(() => undefined);
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
        rpm: `rl:rpm:${scope.type}:${scope.id}`,
        tpm: `rl:tpm:${scope.type}:${scope.id}`,
        concurrency: `conc:${scope.type}:${scope.id}`,
        cost: { what: 'cost', window: undefined, key: '', period: undefined },
        tokens: { what: 'tokens', window: undefined, key: '', period: undefined },
      };
      memo.set(scope.id, keys);
    }
    return keys;
  }

  /**
   * Add the reservation of a level's spend or token counter for its current period to `items` (the key is
   * rebuilt once a period, not per request); a promise when the counter must first be checked against the log.
   */
  private periodItem(
    scope: Scope,
    counter: PeriodCounter,
    period: Period,
    amount: number,
    limit: number | null,
    now: number,
    items: ReserveItem[],
  ): Promise<void> | undefined {
    const window = this.deps.periods.window(period, now);
    if (counter.window !== window) {
      counter.key = counter.what === 'cost' ? spendKey(scope, window.key) : tokensKey(scope, window.key);
      counter.window = window;
    }
    items.push({ key: counter.key, amount, limit, ttlMs: ttlFor(window.resetsAt, now) });
    if (counter.period === period && this.#initialised.has(counter.key)) return undefined;
    return this.checkCounter(scope, counter, period, window, now);
  }

  /**
   * Make sure a counter holds what the log has: loaded once per process, and checked again when the level's
   * period changed (day → month → day: the day counter missed what was spent meanwhile; it is raised to what
   * the log has, never lowered).
   */
  private async checkCounter(
    scope: Scope,
    counter: PeriodCounter,
    period: Period,
    window: PeriodWindow,
    now: number,
  ): Promise<void> {
    const rebuild = counter.period !== undefined && counter.period !== period;
    if (rebuild) this.#initialised.delete(counter.key);
    await this.ensure(counter.key, scope, counter.what, window.startsAt, window.resetsAt, now, rebuild);
    counter.period = period;
  }

  /** The error for the reservation item that did not fit (items are concurrency?, spend, tokens per level). */
  private refusal(
    scopes: Scope[],
    kinds: CounterKind[],
    failed: number,
    now: number,
    headers: Record<string, string>,
  ): ApiError {
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
          { retryAfterSeconds: 1, headers },
        );
      }
      const period = what === 'spend' ? p.budgetPeriod : p.tokenQuotaPeriod;
      const resetsAt = this.deps.periods.window(period, now).resetsAt;
      const retry = resetsAt === null ? undefined : Math.max(1, Math.ceil((resetsAt - now) / 1000));
      const noun = what === 'spend' ? 'budget' : 'token quota';
      return new ApiError(
        'insufficient_quota',
        `${SCOPE_WORDS[scope.type]} ${PERIOD_WORDS[period]} ${noun} is used up${resetsAt === null ? '' : `; it resets at ${new Date(resetsAt).toISOString()}`}`,
        { retryAfterSeconds: retry, headers },
      );
    }
    return new ApiError('internal_error', 'limits reservation failed');
  }

  private async settle(
    items: ReserveItem[],
    kinds: CounterKind[],
    windows: RateWindow[],
    states: WindowState[],
    admittedAt: number,
    est: Estimate,
    cost: number,
    tokens: number,
  ): Promise<void> {
    const changes: CounterChange[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as ReserveItem;
      const kind = kinds[i];
      changes.push({
        key: item.key,
        ttlMs: item.ttlMs,
        amount: kind === 'concurrency' ? -1 : kind === 'spend' ? cost - est.costMicros : tokens - est.tokens,
      });
    }
    // The tokens-per-minute windows take the actual count in place of the estimate, but only the window the
    // request was admitted in: once it has ended, the difference belongs to no window (given back to the
    // next one, it would let that minute admit more than its limit).
    const now = this.deps.clock.now();
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i] as RateWindow;
      if (w.kind !== 'tpm' || now >= admittedAt + (states[i] as WindowState).resetMs) continue;
      changes.push({ key: w.key, amount: Math.round(tokens) - w.points, ttlMs: null, ifExists: true });
    }
    // All at once: with Redis, one script.
    await this.deps.counters.addAll(changes);
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
    rebuild = false,
  ): Promise<void> {
    if (this.#initialised.has(key)) return;
    if (rebuild || !(await this.deps.counters.exists(key))) {
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
      const value = Number(row?.n ?? 0);
      if (rebuild) await this.deps.counters.raise(key, value, ttlFor(resetsAt, now));
      else await this.deps.counters.init(key, value, ttlFor(resetsAt, now));
    }
    this.#initialised.add(key);
  }
}

function ttlFor(resetsAt: number | null, now: number): number | null {
  return resetsAt === null ? null : Math.max(1, resetsAt - now) + COUNTER_MARGIN_MS;
}

/** OpenAI-style headers from the tightest request and token windows. */
function rateHeaders(windows: RateWindow[], states: WindowState[]): Record<string, string> {
  const headers: Record<string, string> = {};
  if (windows.length === 0) return headers;
  for (const names of RATE_HEADERS) {
    let tightest = -1;
    let tightestRemaining = 0;
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i] as RateWindow;
      if (w.kind !== names.kind) continue;
      const remaining = Math.max(0, w.limit - (states[i] as WindowState).used);
      if (tightest < 0 || remaining < tightestRemaining) {
        tightest = i;
        tightestRemaining = remaining;
      }
    }
    if (tightest < 0) continue;
    headers[names.limit] = String((windows[tightest] as RateWindow).limit);
    headers[names.remaining] = String(tightestRemaining);
    headers[names.reset] = `${Math.max(0, Math.ceil((states[tightest] as WindowState).resetMs / 1000))}s`;
  }
  return headers;
}
