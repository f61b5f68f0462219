/**
 * The admin statistics the console's dashboard reads — GET /api/admin/usage/overview and
 * GET /api/admin/usage/history — on both databases: numbers across every user that match the request log,
 * the windows (today, 7 and 30 UTC days), the userId filter, range validation, and the admin guard.
 *
 * Traffic goes through /v1 with the mock model (see test/support/limits.ts for its arithmetic: a "Hello there"
 * chat with max_tokens 20 is 8 prompt + 20 completion tokens and costs 48 micro-USD).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, register, type SignedIn } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { HELLO_COST, type LimitsApp, MASTER, START, startLimitsApp, uniqueEmail } from '../support/limits.js';
import { logRow } from '../support/log-rows.js';

interface Daily {
  date: string;
  model: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costMicros: number;
}
interface Totals {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
  activeUsers: number;
  cacheHits: number;
  cacheMisses: number;
}
interface Overview {
  today: Totals;
  week: Totals;
  month: Totals;
  users: { total: number; active: number };
  keys: { total: number; active: number };
}
interface Row {
  at: number;
  userId: string | null;
  model: string;
  status: number;
  prompt: number;
  completion: number;
  cached: number;
  cost: number;
}

const DAY = 86_400_000;
/** 00:00 UTC of START's day (Sunday 2026-11-22). */
const TODAY = Math.floor(START / DAY) * DAY;

/** Window totals the log implies for rows at or after `since`. */
function expectedTotals(rows: Row[], since: number): Totals {
  const inWindow = rows.filter((r) => r.at >= since);
  const sum = (pick: (r: Row) => number) => inWindow.reduce((n, r) => n + pick(r), 0);
  return {
    requests: inWindow.length,
    errors: inWindow.filter((r) => r.status >= 400).length,
    promptTokens: sum((r) => r.prompt),
    completionTokens: sum((r) => r.completion),
    costMicros: sum((r) => r.cost),
    activeUsers: new Set(inWindow.flatMap((r) => (r.userId ? [r.userId] : []))).size,
    // No request of these tests asks the response cache.
    cacheHits: 0,
    cacheMisses: 0,
  };
}

/** The daily series the log implies: per UTC day and model, sorted by day then model. */
function expectedDaily(rows: Row[]): Daily[] {
  const byDay = new Map<string, Daily>();
  for (const r of rows) {
    const date = new Date(Math.floor(r.at / DAY) * DAY).toISOString().slice(0, 10);
    const d = byDay.get(`${date} ${r.model}`) ?? {
      date,
      model: r.model,
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      cachedTokens: 0,
      costMicros: 0,
    };
    d.requests += 1;
    d.errors += r.status >= 400 ? 1 : 0;
    d.promptTokens += r.prompt;
    d.completionTokens += r.completion;
    d.cachedTokens += r.cached;
    d.costMicros += r.cost;
    byDay.set(`${date} ${r.model}`, d);
  }
  return [...byDay.values()].sort((x, y) =>
    x.date === y.date ? x.model.localeCompare(y.model) : x.date.localeCompare(y.date),
  );
}

describe.each(ENGINES)('admin usage statistics (%s)', (engine) => {
  let a: LimitsApp;
  const clock = new ManualClock(START);
  let dev: SignedIn;
  let other: SignedIn;
  let devKey: string;
  let otherKey: string;

  /** Every row of the request log (pending records written first). */
  async function allRows(): Promise<Row[]> {
    await a.t.services.recorder.flush();
    const rows = await a.t.database.handle.db.selectFrom('request_logs').selectAll().orderBy('at').execute();
    return rows.map((r) => ({
      at: Number(r.at),
      userId: r.user_id,
      model: r.model,
      status: Number(r.status),
      prompt: Number(r.prompt_tokens),
      completion: Number(r.completion_tokens),
      cached: Number(r.cached_tokens),
      cost: Number(r.cost_micros),
    }));
  }

  const overview = async (token = MASTER) => {
    const res = await a.call<Overview>('GET', '/api/admin/usage/overview', { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const history = (query: string, token = MASTER) =>
    a.call<{ data: Daily[] }>('GET', `/api/admin/usage/history${query}`, { token });

  beforeAll(async () => {
    a = await startLimitsApp({ backend: 'memory', engine, clock });
    dev = await register(a.call, uniqueEmail('dev'));
    other = await register(a.call, uniqueEmail('other'));
    devKey = (await a.newKey({}, dev.token)).secret;
    otherKey = (await a.newKey({}, other.token)).secret;
    // A model whose only channel cannot be reached: its requests fail with a logged 5xx.
    const channel = await a.call<{ id: string }>('POST', '/api/admin/channels', {
      token: MASTER,
      body: { name: 'unreachable', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', keys: ['sk-upstream'] },
    });
    expect(channel.status, JSON.stringify(channel.body)).toBe(201);
    const broken = await a.call('POST', '/api/admin/models', {
      token: MASTER,
      body: { name: 'broken', routes: [{ channelId: channel.body.id }] },
    });
    expect(broken.status, JSON.stringify(broken.body)).toBe(201);

    // 40 days ago (outside every window), 10 days ago (month), 3 days ago (week), and today.
    clock.time = START - 40 * DAY;
    expect((await a.chat(devKey)).status).toBe(200);
    clock.time = START - 10 * DAY;
    expect((await a.chat(otherKey)).status).toBe(200);
    clock.time = START - 3 * DAY;
    expect((await a.chat(devKey)).status).toBe(200);
    expect((await a.embed(devKey)).status).toBe(200);
    clock.time = TODAY + 60_000;
    expect((await a.chat(devKey)).status).toBe(200);
    clock.time = START;
    expect((await a.chat(devKey)).status).toBe(200);
    expect((await a.chat(otherKey)).status).toBe(200);
    expect((await a.chat(otherKey, { model: 'broken' })).status).toBeGreaterThanOrEqual(500);
  });
  afterAll(async () => a?.close());

  it('sums today, the last 7 and the last 30 UTC days across every user, matching the request log', async () => {
    const numbers = await overview();
    const rows = await allRows();
    expect(numbers.today).toEqual(expectedTotals(rows, TODAY));
    expect(numbers.week).toEqual(expectedTotals(rows, TODAY - 6 * DAY));
    expect(numbers.month).toEqual(expectedTotals(rows, TODAY - 29 * DAY));

    // The same, spelled out: today is three successful chats and one failure, from two users.
    expect(numbers.today).toEqual({
      requests: 4,
      errors: 1,
      promptTokens: 3 * 8,
      completionTokens: 3 * 20,
      costMicros: 3 * HELLO_COST,
      activeUsers: 2,
      cacheHits: 0,
      cacheMisses: 0,
    });
    // The week adds dev's chat and embedding of three days ago (the same two users).
    expect(numbers.week.requests).toBe(6);
    expect(numbers.week.activeUsers).toBe(2);
    // The month adds other's chat of ten days ago; the chat of 40 days ago is in no window.
    expect(numbers.month.requests).toBe(7);
    expect(numbers.month.costMicros).toBe(numbers.week.costMicros + HELLO_COST);
    expect(rows).toHaveLength(8);
  });

  it('counts only users with a request in the window as active, and not master-key traffic', async () => {
    clock.time = START + 1_000;
    // The master key calls /v1 too; its requests have no user.
    expect((await a.chat(MASTER)).status).toBe(200);
    const numbers = await overview();
    const rows = await allRows();
    expect(rows.filter((r) => r.userId === null)).toHaveLength(1);
    expect(numbers.today.requests).toBe(5);
    expect(numbers.today.activeUsers).toBe(2);
    expect(numbers.today).toEqual(expectedTotals(rows, TODAY));

    // Tomorrow, nobody has been active yet today; the week still counts both.
    clock.time = TODAY + DAY + 1_000;
    const tomorrow = await overview();
    expect(tomorrow.today).toEqual({
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      costMicros: 0,
      activeUsers: 0,
      cacheHits: 0,
      cacheMisses: 0,
    });
    expect(tomorrow.week.activeUsers).toBe(2);
    clock.time = START + 2_000;
  });

  it('counts accounts and keys: all of them, and those active', async () => {
    const before = await overview();
    // The owner (an admin), dev and other; dev's and other's keys.
    expect(before.users).toEqual({ total: 3, active: 3 });
    expect(before.keys).toEqual({ total: 2, active: 2 });

    const gone = await register(a.call, uniqueEmail('gone'));
    const disabled = await a.call('PATCH', `/api/admin/users/${gone.userId}`, {
      token: MASTER,
      body: { status: 'disabled' },
    });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    const revoked = await a.newKey({}, dev.token);
    expect((await a.call('DELETE', `/api/keys/${revoked.key.id}`, { token: dev.token })).status).toBe(204);
    await a.newKey({ expiresAt: clock.time + 60_000 }, dev.token);

    const after = await overview();
    expect(after.users).toEqual({ total: 4, active: 3 });
    // The revoked key still counts in the total; the expiring one is active until it expires.
    expect(after.keys).toEqual({ total: 4, active: 3 });
    clock.advance(120_000);
    expect((await overview()).keys).toEqual({ total: 4, active: 2 });
  });

  it('gives the daily series by model across every user, or for one user', async () => {
    const rows = await allRows();
    const from = START - 45 * DAY;
    const all = await history(`?from=${from}`);
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(all.body.data).toEqual(expectedDaily(rows));
    // Both users' (and the master key's) requests of today are in one row per model.
    expect(all.body.data.filter((d) => d.date === '2026-11-22')).toEqual([
      expect.objectContaining({ model: 'broken', requests: 1, errors: 1, costMicros: 0 }),
      expect.objectContaining({ model: 'mock-gpt', requests: 4, errors: 0, costMicros: 4 * HELLO_COST }),
    ]);

    const devOnly = await history(`?from=${from}&userId=${dev.userId}`);
    expect(devOnly.status).toBe(200);
    expect(devOnly.body.data).toEqual(expectedDaily(rows.filter((r) => r.userId === dev.userId)));
    expect(devOnly.body.data.map((d) => [d.date, d.model, d.requests])).toEqual([
      ['2026-10-13', 'mock-gpt', 1],
      ['2026-11-19', 'mock-embedding', 1],
      ['2026-11-19', 'mock-gpt', 1],
      ['2026-11-22', 'mock-gpt', 2],
    ]);
    // An unknown user has no usage.
    expect((await history(`?from=${from}&userId=usr_nobody`)).body.data).toEqual([]);

    // The default range is the last 30 days: the chat of 40 days ago is left out.
    const recent = await history('');
    expect(recent.status).toBe(200);
    expect(recent.body.data).toEqual(expectedDaily(rows.filter((r) => r.at >= clock.now() + 1 - 30 * DAY)));
    expect(recent.body.data.some((d) => d.date === '2026-10-13')).toBe(false);
    // `to` is exclusive.
    const before = await history(`?from=${from}&to=${TODAY}`);
    expect(before.body.data).toEqual(expectedDaily(rows.filter((r) => r.at < TODAY)));
  });

  it('refuses a backwards, too long or malformed range', async () => {
    const backwards = await history(`?from=${START}&to=${START - 1}`);
    expect(backwards.status).toBe(400);
    expect(backwards.body).toMatchObject({ error: { code: 'validation_failed' } });
    expect(JSON.stringify(backwards.body)).toContain('from must be before to');
    expect((await history(`?from=${START}&to=${START}`)).status).toBe(400);
    const long = await history(`?from=${START - 401 * DAY}&to=${START}`);
    expect(long.status).toBe(400);
    expect(JSON.stringify(long.body)).toContain('400 days');
    expect((await history(`?from=${START - 400 * DAY}&to=${START}`)).status).toBe(200);
    expect((await history('?from=-5')).status).toBe(400);
    expect((await history('?from=yesterday')).status).toBe(400);
    expect((await history(`?userId=${'u'.repeat(65)}`)).status).toBe(400);
  });

  it('is for admins only: 401 without credentials, 403 for a user, 401 for an API key', async () => {
    for (const path of ['/api/admin/usage/overview', '/api/admin/usage/history']) {
      const anonymous = await a.call<{ error: { code: string } }>('GET', path);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthorized');
      const user = await a.call<{ error: { code: string } }>('GET', path, { token: dev.token });
      expect(user.status).toBe(403);
      expect(user.body.error.code).toBe('forbidden');
      expect((await a.call('GET', path, { token: devKey })).status).toBe(401);
      expect((await a.call('GET', path, { token: 'not-a-token' })).status).toBe(401);
    }
  });

  it('lets an admin account (not only the master key) read them', async () => {
    const admin = await register(a.call, uniqueEmail('second-admin'));
    const promoted = await a.call('PATCH', `/api/admin/users/${admin.userId}`, {
      token: MASTER,
      body: { role: 'admin' },
    });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    const login = await a.call<{ accessToken: string }>('POST', '/api/auth/login', {
      body: { email: admin.email, password: 'correct horse 1' },
    });
    expect(login.status).toBe(200);
    const numbers = await overview(login.body.accessToken);
    expect(numbers.users.total).toBe(5);
    expect((await history('', login.body.accessToken)).status).toBe(200);
  });

  it('describes both routes in the OpenAPI document the console is generated from', async () => {
    const res = await a.call<{ paths: Record<string, Record<string, { tags: string[]; security: unknown[] }>> }>(
      'GET',
      '/openapi.json',
    );
    expect(res.status).toBe(200);
    const overviewOp = res.body.paths['/api/admin/usage/overview']?.get;
    const historyOp = res.body.paths['/api/admin/usage/history']?.get;
    expect(overviewOp?.tags).toEqual(['admin: usage']);
    expect(historyOp?.tags).toEqual(['admin: usage']);
    expect(overviewOp?.security).toEqual([{ bearerAuth: [] }]);
    expect(JSON.stringify(overviewOp)).toContain('activeUsers');
    expect(JSON.stringify(historyOp)).toContain('userId');
  });

  it('counts response-cache hits and misses, and keeps the totals once the log is purged (read from rollups)', async () => {
    clock.time = START + 3_000;
    const before = await overview();
    for (const [n, cache] of (['hit', 'hit', 'miss', null] as const).entries())
      a.t.services.recorder.record(
        logRow({
          id: `req_cache_${engine}_${n}`,
          at: clock.now(),
          // Master-key traffic (no organization), which the instance's overview counts.
          org_id: null,
          model: 'mock',
          prompt_tokens: 8,
          completion_tokens: 20,
          cost_micros: cache === 'hit' ? 0 : HELLO_COST,
          cache,
        }),
      );
    const after = await overview();
    expect(after.today.requests - before.today.requests).toBe(4);
    expect(after.today.cacheHits - before.today.cacheHits).toBe(2);
    expect(after.today.cacheMisses - before.today.cacheMisses).toBe(1);
    expect(after.month.cacheHits - before.month.cacheHits).toBe(2);
    expect(after.today.costMicros - before.today.costMicros).toBe(2 * HELLO_COST);

    // The log's retention deletes raw rows; the overview's windows are daily rollups, which stay.
    await a.t.database.handle.db.deleteFrom('request_logs').where('at', '<', TODAY).execute();
    expect(await overview()).toEqual(after);
  });
});
