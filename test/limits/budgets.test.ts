/**
 * Spend budgets and token quotas under bursts of parallel requests, on every spend route, on both
 * databases and both counter backends: what is admitted stays within the limit plus one request, the
 * refusal is `429 insufficient_quota` with Retry-After, and what developers see in /api/usage/current and
 * /api/usage/history is exactly the request log — which is exactly what the enforcer's counters hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import {
  type Answer,
  type AnthropicError,
  type ApiError,
  burst,
  eventually,
  HELLO_COST,
  HELLO_TOKENS,
  type LimitsApp,
  type LogRow,
  MASTER,
  START,
  secondsUntil,
  startLimitsApp,
  statuses,
  sum,
} from '../support/limits.js';

const TOMORROW = Date.UTC(2026, 10, 23);

describe.each(ENGINES)('budgets and token quotas (%s)', (engine) => {
  describe.each(BACKENDS)('%s counters', (backend) => {
    let a: LimitsApp;

    beforeAll(async () => {
      a = await startLimitsApp({ backend, engine });
    });
    afterAll(async () => a?.close());

    /** The request log, the enforcer's counter and /api/usage/current agree for a key. */
    async function expectUsageMatchesLog(
      secret: string,
      keyId: string,
      budget: { limit: number | null; what: 'spend' | 'tokens' },
    ) {
      const rows = await a.logs('key_id', keyId);
      const spent = sum(rows, (r) => r.cost);
      const tokens = sum(rows, (r) => r.tokens);
      expect(
        await eventually(
          () => a.counter({ type: 'key', id: keyId }, 'cost', 'day'),
          (v) => v === spent,
        ),
      ).toBe(spent);
      expect(
        await eventually(
          () => a.counter({ type: 'key', id: keyId }, 'tokens', 'day'),
          (v) => v === tokens,
        ),
      ).toBe(tokens);
      const usage = await a.usage(secret);
      expect(usage.user).toBeNull();
      expect(usage.keys.map((k) => k.id)).toEqual([keyId]);
      const meter = usage.keys[0]?.usage[budget.what];
      const used = budget.what === 'spend' ? spent : tokens;
      expect(meter).toEqual({
        period: 'day',
        used,
        limit: budget.limit,
        remaining: budget.limit === null ? null : Math.max(0, budget.limit - used),
        resetsAt: TOMORROW,
      });
      expect(usage.keys[0]?.usage.requests).toBe(rows.length);
      return { rows, spent, tokens };
    }

    /** The log's served rows, after checking it holds `served` of them and `refused` refusals with nothing billed. */
    function servedRows(rows: LogRow[], served: number, refused: number): LogRow[] {
      const ok = rows.filter((r) => r.status === 200);
      const others = rows.filter((r) => r.status !== 200);
      expect(ok).toHaveLength(served);
      expect(others).toHaveLength(refused);
      expect(others.every((r) => r.status === 429 && r.cost === 0 && r.tokens === 0)).toBe(true);
      return ok;
    }

    /** Fire `n` requests at once; check the budget bound and the refusals; return the settled log. */
    async function budgetBurst<T extends ApiError | AnthropicError>(
      n: number,
      budgetMicros: number,
      send: (secret: string) => Promise<Answer<T>>,
    ) {
      const { secret, key } = await a.newKey({ budgetMicros, budgetPeriod: 'day' });
      const results = await burst(n, () => send(secret));
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 429);
      expect(ok.length + refused.length, JSON.stringify(statuses(results))).toBe(n);
      expect(ok.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect(r.headers.get('retry-after')).toBe(secondsUntil(TOMORROW, START));

      const logged = await expectUsageMatchesLog(secret, key.id, { limit: budgetMicros, what: 'spend' });
      const { spent } = logged;
      // Every request is in the log: the admitted ones billed once, the refused ones with their 429 and nothing billed.
      const rows = servedRows(logged.rows, ok.length, refused.length);
      const oneRequest = Math.max(...rows.map((r) => r.cost));
      expect(spent).toBeLessThanOrEqual(budgetMicros + oneRequest);
      // The budget is usable: nothing is refused while a whole request still fits.
      expect(spent).toBeGreaterThan(budgetMicros - oneRequest);

      // Used up: the next request on any route is refused until tomorrow.
      return { secret, key, ok: ok.length, refused, spent, rows };
    }

    it('holds a small budget under 200 parallel chat completions', async () => {
      // Room for ~10 requests. Not a multiple of the 50 a request reserves: ten reservations stop short of it,
      // so the burst admits an eleventh and the budget is used up (ten would leave 20 unspent, and usable).
      const budget = 10 * HELLO_COST + 25;
      const { secret, refused, rows } = await budgetBurst(200, budget, (s) => a.chat(s));
      expect(rows.every((r) => r.cost === HELLO_COST)).toBe(true);
      expect(refused[0]?.body).toEqual({
        error: {
          message: `This API key's daily budget is used up; it resets at ${new Date(TOMORROW).toISOString()}`,
          type: 'insufficient_quota',
          param: null,
          code: 'insufficient_quota',
        },
      });
      const after = await a.chat(secret);
      expect(after.status).toBe(429);
      expect(after.body.error.code).toBe('insufficient_quota');
    });

    it('holds it on /v1/messages too, refusing in the Anthropic shape', async () => {
      const budget = 10 * HELLO_COST + 25;
      const { secret, refused, rows } = await budgetBurst(100, budget, (s) => a.messages(s));
      expect(rows.every((r) => r.endpoint === 'messages')).toBe(true);
      expect(refused[0]?.body).toEqual({
        type: 'error',
        error: { type: 'rate_limit_error', message: expect.stringMatching(/^This API key's daily budget is used up/) },
      });
      // The budget is the key's, whatever the route: chat and embeddings are refused as well.
      expect((await a.chat(secret)).status).toBe(429);
      const embeddings = await a.embed(secret);
      expect(embeddings.status).toBe(429);
      expect(embeddings.body.error.code).toBe('insufficient_quota');
    });

    it('holds it on /v1/embeddings too (no budget bypass through the side route)', async () => {
      // mock-embedding costs 1 micro-USD per request here: exactly 10 fit in a budget of 10.
      const { secret, ok, spent, refused } = await budgetBurst(100, 10, (s) => a.embed(s));
      expect(ok).toBe(10);
      expect(spent).toBe(10);
      expect(refused[0]?.body.error).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota' });
      expect((await a.messages(secret)).status).toBe(429);
    });

    it('holds a token quota under a burst, counting prompt and completion tokens', async () => {
      // Ten 30-token reservations stop short of it, so the burst admits an eleventh and uses it up (see above).
      const quota = 10 * HELLO_TOKENS + 21;
      const { secret, key } = await a.newKey({ tokenQuota: quota, tokenQuotaPeriod: 'day' });
      const results = await burst(100, () => a.chat(secret));
      const refused = results.filter((r) => r.status === 429);
      expect(results.filter((r) => r.status === 200).length + refused.length).toBe(100);
      expect(refused[0]?.body.error).toMatchObject({ code: 'insufficient_quota' });
      expect(refused[0]?.body.error.message).toMatch(/^This API key's daily token quota is used up; it resets at /);
      expect(refused[0]?.headers.get('retry-after')).toBe(secondsUntil(TOMORROW, START));
      const logged = await expectUsageMatchesLog(secret, key.id, { limit: quota, what: 'tokens' });
      const { tokens } = logged;
      const rows = servedRows(logged.rows, 100 - refused.length, refused.length);
      expect(rows.every((r) => r.tokens === HELLO_TOKENS)).toBe(true);
      expect(tokens).toBeLessThanOrEqual(quota + HELLO_TOKENS);
      expect(tokens).toBeGreaterThan(quota - HELLO_TOKENS);
      // Embeddings draw on the same quota.
      expect((await a.embed(secret)).status).toBe(429);
    });

    it('settles a generous reservation down to the actual cost, so the rest of the budget stays usable', async () => {
      // No max_tokens: 10 + 4096 tokens are reserved (8,202 micro-USD), the answer costs 8 + 2×70 = 148.
      const { secret, key } = await a.newKey({ budgetMicros: 9_000, budgetPeriod: 'day' });
      const first = await a.chat(secret, { max_tokens: undefined });
      expect(first.status).toBe(200);
      const spent = await eventually(
        () => a.counter({ type: 'key', id: key.id }, 'cost', 'day'),
        (v) => v === 148,
      );
      expect(spent).toBe(148);
      // Had the first reservation been kept (8,202), the counter would be at 8,202 and only one of these two
      // would be admitted (8,202 < 9,000, then 16,404 ≥ 9,000).
      const more = await Promise.all([
        a.chat(secret, { max_tokens: undefined }),
        a.chat(secret, { max_tokens: undefined }),
      ]);
      expect(more.map((r) => r.status)).toEqual([200, 200]);
      await expectUsageMatchesLog(secret, key.id, { limit: 9_000, what: 'spend' });
    });

    it('releases the whole reservation of a request that fails upstream', async () => {
      const channel = await a.call<{ id: string }>('POST', '/api/admin/channels', {
        token: MASTER,
        body: { name: 'broken-channel', type: 'openai', baseUrl: 'http://127.0.0.1:1/v1', keys: ['sk-nothing'] },
      });
      expect(channel.status, JSON.stringify(channel.body)).toBe(201);
      const model = await a.call('POST', '/api/admin/models', {
        token: MASTER,
        body: {
          name: 'gpt-broken',
          inputPrice: 1_000_000,
          outputPrice: 2_000_000,
          routes: [{ channelId: channel.body.id }],
        },
      });
      expect(model.status, JSON.stringify(model.body)).toBe(201);
      const { secret, key } = await a.newKey({ budgetMicros: 1_000, budgetPeriod: 'day' });
      const failed = await a.chat(secret, { model: 'gpt-broken' });
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(
        await eventually(
          () => a.counter({ type: 'key', id: key.id }, 'cost', 'day'),
          (v) => v === 0,
        ),
      ).toBe(0);
      const { rows } = await expectUsageMatchesLog(secret, key.id, { limit: 1_000, what: 'spend' });
      expect(rows.map((r) => [r.status, r.cost])).toEqual([[failed.status, 0]]);
    });

    it('counts spend on the user and organization levels too, matching their logs', async () => {
      const userRows = await a.logs('user_id', a.ownerId);
      const orgRows = await a.logs('org_id', 'org_default');
      const userSpent = sum(userRows, (r) => r.cost);
      expect(userSpent).toBeGreaterThan(0);
      expect(
        await eventually(
          () => a.counter({ type: 'user', id: a.ownerId }, 'cost', 'month'),
          (v) => v === userSpent,
        ),
      ).toBe(userSpent);
      const orgTokens = sum(orgRows, (r) => r.tokens);
      expect(
        await eventually(
          () => a.counter({ type: 'org', id: 'org_default' }, 'tokens', 'month'),
          (v) => v === orgTokens,
        ),
      ).toBe(orgTokens);
      const admin = await a.call<{ usage: { spend: number; tokens: number; requests: number } }>(
        'GET',
        `/api/admin/limits/user/${a.ownerId}`,
        { token: MASTER },
      );
      expect(admin.body.usage).toEqual({
        spend: userSpent,
        tokens: sum(userRows, (r) => r.tokens),
        requests: userRows.length,
      });
    });
  });
});
