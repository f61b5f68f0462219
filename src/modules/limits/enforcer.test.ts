import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/databases.js';
import { ApiError } from '../../core/errors.js';
import type { RequestLogsTable } from '../../infra/db/schema.js';
import { MemoryCounterStore } from '../../infra/state/counters.js';
import { type Estimate, LimitEnforcer, type Scope, spendKey, tokensKey } from './enforcer.js';
import { PeriodClock } from './periods.js';
import { type LimitPolicy, NO_LIMITS } from './policy.js';

const NOON = Date.UTC(2026, 10, 22, 12, 0, 0); // Sunday
const MIDNIGHT = Date.UTC(2026, 10, 23);
const DAY_KEY = 'd2026-11-22';
const MONTH_KEY = 'm2026-11';

const policy = (limits: Partial<LimitPolicy> = {}): LimitPolicy => ({ ...NO_LIMITS, ...limits });
const key = (limits: Partial<LimitPolicy> = {}): Scope => ({ type: 'key', id: 'key_1', policy: policy(limits) });
const user = (limits: Partial<LimitPolicy> = {}): Scope => ({ type: 'user', id: 'usr_1', policy: policy(limits) });
const org = (limits: Partial<LimitPolicy> = {}): Scope => ({ type: 'org', id: 'org_1', policy: policy(limits) });
const estimate =
  (costMicros: number, tokens: number): (() => Estimate) =>
  () => ({ costMicros, tokens });

/** Settlement runs in the background (settle never throws or waits): let it finish. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** The ApiError `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

function logRow(row: Partial<RequestLogsTable> & Pick<RequestLogsTable, 'id' | 'at'>): RequestLogsTable {
  return {
    user_id: null,
    key_id: null,
    org_id: null,
    team_id: null,
    channel_id: null,
    model: 'mock-gpt',
    upstream_model: null,
    endpoint: 'chat',
    stream: 0,
    status: 200,
    error_code: null,
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_tokens: 0,
    reasoning_tokens: 0,
    estimated: 0,
    cost_micros: 0,
    price_micros: 0,
    latency_ms: 1,
    ttft_ms: null,
    client_ip: null,
    attempts: null,
    request_body: null,
    response_body: null,
    cache: null,
    ...row,
  };
}

describe('LimitEnforcer', () => {
  let database: TestDatabase;
  let clock: { time: number; now(): number };
  let counters: MemoryCounterStore;
  let flushLog: Mock<() => Promise<void>>;
  let enforcer: LimitEnforcer;

  beforeEach(async () => {
    database = await createTestDatabase('sqlite');
    clock = {
      time: NOON,
      now() {
        return this.time;
      },
    };
    counters = new MemoryCounterStore(() => clock.now());
    flushLog = vi.fn(async () => undefined);
    enforcer = new LimitEnforcer({
      counters,
      periods: new PeriodClock('UTC'),
      clock,
      db: database.handle.db,
      flushLog,
    });
  });
  afterEach(async () => database.drop());

  const value = async (counter: string) => (await counters.get([counter]))[0];

  describe('reservation and settlement', () => {
    it('reserves the estimate on every level, limited or not, and settles it down to the actual cost', async () => {
      const admission = await enforcer.admit(
        [key({ budgetMicros: 1_000, budgetPeriod: 'day' }), user(), org()],
        estimate(300, 100),
      );
      expect(await value(spendKey({ type: 'key', id: 'key_1' }, DAY_KEY))).toBe(300);
      expect(await value(tokensKey({ type: 'key', id: 'key_1' }, MONTH_KEY))).toBe(100);
      expect(await value(spendKey({ type: 'user', id: 'usr_1' }, MONTH_KEY))).toBe(300);
      expect(await value(spendKey({ type: 'org', id: 'org_1' }, MONTH_KEY))).toBe(300);

      admission.settle(120, 40);
      await settled();
      expect(await value(spendKey({ type: 'key', id: 'key_1' }, DAY_KEY))).toBe(120);
      expect(await value(tokensKey({ type: 'key', id: 'key_1' }, MONTH_KEY))).toBe(40);
      expect(await value(spendKey({ type: 'user', id: 'usr_1' }, MONTH_KEY))).toBe(120);
      expect(await value(tokensKey({ type: 'org', id: 'org_1' }, MONTH_KEY))).toBe(40);
      expect(await enforcer.current({ type: 'key', id: 'key_1' }, 'cost', 'day')).toEqual({
        used: 120,
        resetsAt: MIDNIGHT,
      });
    });

    it('settles up when the answer cost more than was reserved', async () => {
      const admission = await enforcer.admit([key({ budgetMicros: 1_000 })], estimate(300, 100));
      admission.settle(450, 130);
      await settled();
      expect(await enforcer.current({ type: 'key', id: 'key_1' }, 'cost', 'month')).toMatchObject({ used: 450 });
      expect(await enforcer.current({ type: 'key', id: 'key_1' }, 'tokens', 'month')).toMatchObject({ used: 130 });
    });

    it('settles once, however often settle is called', async () => {
      const admission = await enforcer.admit([key({ maxConcurrency: 5 })], estimate(300, 100));
      admission.settle(100, 10);
      admission.settle(100, 10);
      admission.settle(0, 0);
      await settled();
      expect(await enforcer.current({ type: 'key', id: 'key_1' }, 'cost', 'month')).toMatchObject({ used: 100 });
      expect(await value('conc:key:key_1')).toBe(0);
    });

    it('asks for the estimate once, and not at all without levels', async () => {
      const estimateOnce = vi.fn(estimate(1, 1));
      await enforcer.admit([key(), user()], estimateOnce);
      expect(estimateOnce).toHaveBeenCalledTimes(1);
      const nothing = vi.fn(estimate(1, 1));
      const admission = await enforcer.admit([], nothing);
      expect(nothing).not.toHaveBeenCalled();
      expect(admission.headers).toEqual({});
      expect(() => admission.settle(5, 5)).not.toThrow();
    });
  });

  describe('budgets and quotas', () => {
    it('admits while the counter is below the limit, so a burst overshoots by one request at most', async () => {
      const scopes = [key({ budgetMicros: 100, budgetPeriod: 'day' })];
      await enforcer.admit(scopes, estimate(80, 10));
      await enforcer.admit(scopes, estimate(80, 10)); // 80 < 100: admitted, goes to 160
      const error = await refusal(enforcer.admit(scopes, estimate(1, 1)));
      expect(error.code).toBe('insufficient_quota');
      expect(error.status).toBe(429);
      expect(error.message).toBe(
        `This API key's daily budget is used up; it resets at ${new Date(MIDNIGHT).toISOString()}`,
      );
      expect(error.retryAfterSeconds).toBe((MIDNIGHT - NOON) / 1000);
    });

    it('reserves all or nothing: a level out of budget takes nothing from the others', async () => {
      await counters.init(spendKey({ type: 'user', id: 'usr_1' }, MONTH_KEY), 500, null);
      const scopes = [key({ budgetMicros: 10_000, maxConcurrency: 3 }), user({ budgetMicros: 500 })];
      const error = await refusal(enforcer.admit(scopes, estimate(50, 20)));
      expect(error.message).toMatch(/^Your monthly budget is used up; it resets at 2026-12-01T00:00:00.000Z$/);
      expect(await value(spendKey({ type: 'key', id: 'key_1' }, MONTH_KEY))).toBe(0);
      expect(await value(tokensKey({ type: 'key', id: 'key_1' }, MONTH_KEY))).toBe(0);
      expect(await value('conc:key:key_1')).toBe(0);
      expect(await value(spendKey({ type: 'user', id: 'usr_1' }, MONTH_KEY))).toBe(500);
    });

    it('names the level and period of a token quota, and gives no Retry-After for a lifetime limit', async () => {
      const scopes: Scope[] = [
        key(),
        { type: 'team', id: 'team_1', policy: policy({ tokenQuota: 10, tokenQuotaPeriod: 'lifetime' }) },
      ];
      await enforcer.admit(scopes, estimate(1, 10));
      const error = await refusal(enforcer.admit(scopes, estimate(1, 1)));
      expect(error.code).toBe('insufficient_quota');
      expect(error.message).toBe("Your team's lifetime token quota is used up");
      expect(error.retryAfterSeconds).toBeUndefined();
    });

    it('starts a fresh counter when the period rolls over, without any job', async () => {
      const scopes = [key({ budgetMicros: 100, budgetPeriod: 'day' })];
      await enforcer.admit(scopes, estimate(100, 1));
      await refusal(enforcer.admit(scopes, estimate(1, 1)));
      clock.time = MIDNIGHT - 1;
      await refusal(enforcer.admit(scopes, estimate(1, 1)));
      clock.time = MIDNIGHT;
      await enforcer.admit(scopes, estimate(100, 1));
      expect(await value(spendKey({ type: 'key', id: 'key_1' }, 'd2026-11-23'))).toBe(100);
      expect(await enforcer.current({ type: 'key', id: 'key_1' }, 'cost', 'day')).toEqual({
        used: 100,
        resetsAt: MIDNIGHT + 86_400_000,
      });
    });

    it('cuts periods in the configured time zone', async () => {
      const shanghai = new LimitEnforcer({
        counters,
        periods: new PeriodClock('Asia/Shanghai'),
        clock,
        db: database.handle.db,
      });
      const scopes = [key({ budgetMicros: 1, budgetPeriod: 'day' })];
      await shanghai.admit(scopes, estimate(1, 1));
      const error = await refusal(shanghai.admit(scopes, estimate(1, 1)));
      // Noon UTC is 20:00 in Shanghai: four hours to its midnight.
      expect(error.retryAfterSeconds).toBe(4 * 3600);
      expect(error.message).toContain('2026-11-22T16:00:00.000Z');
    });
  });

  describe('rates and concurrency', () => {
    it('refuses past rpm with rate_limit_exceeded and a Retry-After within the minute', async () => {
      const scopes = [key({ rpm: 2 })];
      const first = await enforcer.admit(scopes, estimate(0, 0));
      expect(first.headers).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1' });
      expect(first.headers['x-ratelimit-reset-requests']).toMatch(/^\d+s$/);
      await enforcer.admit(scopes, estimate(0, 0));
      const error = await refusal(enforcer.admit(scopes, estimate(0, 0)));
      expect(error.code).toBe('rate_limit_exceeded');
      expect(error.message).toMatch(/^This API key's limit of 2 requests per minute is reached; retry after \d+s$/);
      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
    });

    it('gives back the rpm and tpm lower levels took when a higher level refuses', async () => {
      const refusing = [key({ rpm: 2, tpm: 100 }), user({ budgetMicros: 0 })];
      for (let i = 0; i < 5; i++)
        expect((await refusal(enforcer.admit(refusing, estimate(10, 40)))).code).toBe('insufficient_quota');
      const fine = [key({ rpm: 2, tpm: 100 }), user()];
      const admission = await enforcer.admit(fine, estimate(10, 40));
      expect(admission.headers).toMatchObject({
        'x-ratelimit-remaining-requests': '1',
        'x-ratelimit-remaining-tokens': '60',
      });
    });

    it('when several levels are over their windows, names the first (key before organization) and takes nothing', async () => {
      const scopes = [key({ rpm: 1, tpm: 1_000 }), org({ rpm: 1 })];
      await enforcer.admit(scopes, estimate(0, 10));
      const error = await refusal(enforcer.admit(scopes, estimate(0, 10)));
      expect(error.message).toMatch(/^This API key's limit of 1 requests per minute/);
      // The refused request's tokens went back to the key's tpm window: 1000 - 10 left.
      const tpmOnly = await enforcer.admit([key({ tpm: 1_000 })], estimate(0, 10));
      expect(tpmOnly.headers['x-ratelimit-remaining-tokens']).toBe('980');
    });

    it('gives back the rpm of the key when the organization is over its rpm', async () => {
      const scopes = [key({ rpm: 5 }), org({ rpm: 1 })];
      await enforcer.admit(scopes, estimate(0, 0));
      const error = await refusal(enforcer.admit(scopes, estimate(0, 0)));
      expect(error.message).toMatch(/^Your organization's limit of 1 requests per minute/);
      const keyOnly = await enforcer.admit([key({ rpm: 5 })], estimate(0, 0));
      expect(keyOnly.headers['x-ratelimit-remaining-requests']).toBe('3');
    });

    it('charges tpm on the reservation and settles it to the tokens used', async () => {
      const scopes = [key({ tpm: 100 })];
      const first = await enforcer.admit(scopes, estimate(0, 88));
      first.settle(0, 78);
      await settled();
      const second = await enforcer.admit(scopes, estimate(0, 22)); // 78 + 22 = 100
      expect(second.headers['x-ratelimit-remaining-tokens']).toBe('0');
      second.settle(0, 30); // used 8 more than reserved: charged without refusing
      await settled();
      expect((await refusal(enforcer.admit(scopes, estimate(0, 1)))).code).toBe('rate_limit_exceeded');
    });

    it('does not charge the tokens of a refused request to the tpm window', async () => {
      const scopes = [key({ tpm: 100 })];
      await enforcer.admit(scopes, estimate(0, 28));
      expect((await refusal(enforcer.admit(scopes, estimate(0, 508)))).code).toBe('rate_limit_exceeded');
      const fits = await enforcer.admit(scopes, estimate(0, 28));
      expect(fits.headers['x-ratelimit-remaining-tokens']).toBe('44');
    });

    it('does not credit tokens left over from an expired minute to the next one', async () => {
      const scopes = [key({ tpm: 1_000 })];
      const long = await enforcer.admit(scopes, estimate(0, 900));
      clock.time = NOON + 61_000; // the answer took longer than the window
      long.settle(0, 100);
      await settled();
      const next = await enforcer.admit(scopes, estimate(0, 1_000)); // a whole minute's worth
      expect(next.headers['x-ratelimit-remaining-tokens']).toBe('0');
      expect((await refusal(enforcer.admit(scopes, estimate(0, 1)))).code).toBe('rate_limit_exceeded');
    });

    it('opens a new per-minute window after a minute', async () => {
      const scopes = [key({ rpm: 2 })];
      await enforcer.admit(scopes, estimate(0, 0));
      await enforcer.admit(scopes, estimate(0, 0));
      await refusal(enforcer.admit(scopes, estimate(0, 0)));
      clock.time = NOON + 59_000;
      await refusal(enforcer.admit(scopes, estimate(0, 0)));
      clock.time = NOON + 60_001;
      const fresh = await enforcer.admit(scopes, estimate(0, 0));
      expect(fresh.headers['x-ratelimit-remaining-requests']).toBe('1');
    });

    it('reports the tightest level in the headers', async () => {
      const admission = await enforcer.admit(
        [key({ rpm: 50, tpm: 1_000 }), user({ rpm: 10, tpm: 5_000 })],
        estimate(0, 100),
      );
      expect(admission.headers).toMatchObject({
        'x-ratelimit-limit-requests': '10',
        'x-ratelimit-remaining-requests': '9',
        'x-ratelimit-limit-tokens': '1000',
        'x-ratelimit-remaining-tokens': '900',
      });
      expect((await enforcer.admit([key({ budgetMicros: 5 })], estimate(0, 0))).headers).toEqual({});
    });

    it('holds a concurrency slot until settle, and a refused request takes no budget', async () => {
      const scopes = [key({ maxConcurrency: 2, budgetMicros: 1_000 })];
      const one = await enforcer.admit(scopes, estimate(10, 1));
      await enforcer.admit(scopes, estimate(10, 1));
      const error = await refusal(enforcer.admit(scopes, estimate(10, 1)));
      expect(error.code).toBe('rate_limit_exceeded');
      expect(error.message).toBe("This API key's limit of 2 concurrent requests is reached; retry when one finishes");
      expect(error.retryAfterSeconds).toBe(1);
      expect(await value(spendKey({ type: 'key', id: 'key_1' }, MONTH_KEY))).toBe(20);
      one.settle(10, 1);
      await settled();
      await enforcer.admit(scopes, estimate(10, 1));
      expect(await value('conc:key:key_1')).toBe(2);
    });
  });

  describe('counters rebuilt from the request log', () => {
    const db = () => database.handle.db;

    it("loads a counter this process never saw from the current period's records, once", async () => {
      await db()
        .insertInto('request_logs')
        .values([
          logRow({
            id: 'r1',
            at: NOON - 3_600_000,
            key_id: 'key_1',
            cost_micros: 100,
            prompt_tokens: 10,
            completion_tokens: 5,
          }),
          logRow({
            id: 'r2',
            at: Date.UTC(2026, 10, 22),
            key_id: 'key_1',
            cost_micros: 30,
            prompt_tokens: 1,
            completion_tokens: 2,
          }),
          logRow({
            id: 'r3',
            at: Date.UTC(2026, 10, 21, 23, 59),
            key_id: 'key_1',
            cost_micros: 1_000,
            prompt_tokens: 100,
            completion_tokens: 100,
          }),
          logRow({ id: 'r4', at: NOON - 1, key_id: 'key_2', cost_micros: 7 }),
        ])
        .execute();
      const scopes = [key({ budgetMicros: 200, budgetPeriod: 'day', tokenQuotaPeriod: 'day' })];
      await enforcer.admit(scopes, estimate(50, 5));
      expect(flushLog).toHaveBeenCalled();
      expect(await value(spendKey({ type: 'key', id: 'key_1' }, DAY_KEY))).toBe(130 + 50);
      expect(await value(tokensKey({ type: 'key', id: 'key_1' }, DAY_KEY))).toBe(18 + 5);
      // Once loaded, the counter is the truth: a record written later is not counted twice.
      const calls = flushLog.mock.calls.length;
      await db()
        .insertInto('request_logs')
        .values(logRow({ id: 'r5', at: NOON, key_id: 'key_1', cost_micros: 50 }))
        .execute();
      await enforcer.admit(scopes, estimate(10, 1));
      expect(flushLog.mock.calls.length).toBe(calls);
      expect(await value(spendKey({ type: 'key', id: 'key_1' }, DAY_KEY))).toBe(190);
      await enforcer.admit(scopes, estimate(20, 1)); // 190 < 200: admitted, goes to 210
      expect((await refusal(enforcer.admit(scopes, estimate(1, 1)))).code).toBe('insufficient_quota');
    });

    it("checks a level's counter against the log when its period changes (day → month → day), never lowering it", async () => {
      const daily = [key({ tokenQuota: 100, tokenQuotaPeriod: 'day' })];
      const monthly = [key({ tokenQuota: 1_000, tokenQuotaPeriod: 'month' })];
      const served = async (scopes: Scope[], id: string, tokens: number) => {
        const admission = await enforcer.admit(scopes, estimate(0, tokens));
        admission.settle(0, tokens);
        await settled();
        await db()
          .insertInto('request_logs')
          .values(logRow({ id, at: clock.time, key_id: 'key_1', prompt_tokens: tokens }))
          .execute();
      };
      await served(daily, 'r1', 60);
      await served(monthly, 'r2', 60); // not in the day counter: 60 there, 120 in the log
      await served(daily, 'r3', 0); // back to daily: the day counter is raised to the log's 120
      expect(await value(tokensKey({ type: 'key', id: 'key_1' }, DAY_KEY))).toBe(120);
      expect((await refusal(enforcer.admit(daily, estimate(0, 1)))).code).toBe('insufficient_quota');
      // Another instance's request, counted but not in the log yet, is not lost by the check.
      await counters.add(tokensKey({ type: 'key', id: 'key_1' }, MONTH_KEY), 500, null);
      await enforcer.admit(monthly, estimate(0, 0));
      expect(await value(tokensKey({ type: 'key', id: 'key_1' }, MONTH_KEY))).toBe(620);
    });

    it('loads team, user and organization counters from their own columns', async () => {
      await db()
        .insertInto('request_logs')
        .values([
          logRow({
            id: 'r1',
            at: NOON - 1,
            user_id: 'usr_1',
            team_id: 'team_1',
            org_id: 'org_1',
            cost_micros: 40,
            prompt_tokens: 4,
          }),
          logRow({
            id: 'r2',
            at: NOON - 2,
            user_id: 'usr_2',
            team_id: 'team_1',
            org_id: 'org_1',
            cost_micros: 60,
            prompt_tokens: 6,
          }),
        ])
        .execute();
      expect(await enforcer.current({ type: 'user', id: 'usr_1' }, 'cost', 'month')).toMatchObject({ used: 40 });
      expect(await enforcer.current({ type: 'team', id: 'team_1' }, 'cost', 'week')).toMatchObject({ used: 100 });
      expect(await enforcer.current({ type: 'org', id: 'org_1' }, 'tokens', 'lifetime')).toEqual({
        used: 10,
        resetsAt: null,
      });
    });

    it('keeps a counter another instance already holds instead of rebuilding it', async () => {
      await db()
        .insertInto('request_logs')
        .values(logRow({ id: 'r1', at: NOON - 1, key_id: 'key_1', cost_micros: 100 }))
        .execute();
      await counters.init(spendKey({ type: 'key', id: 'key_1' }, MONTH_KEY), 500, null);
      await enforcer.admit([key()], estimate(5, 1));
      expect(await value(spendKey({ type: 'key', id: 'key_1' }, MONTH_KEY))).toBe(505);
    });
  });
});
