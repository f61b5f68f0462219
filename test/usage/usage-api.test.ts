/**
 * What developers see — GET /api/usage/current and GET /api/usage/history — on both databases: the
 * numbers are the request log's, each caller sees only their own keys, and an API key sees only itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Call, ManualClock, register, type SignedIn } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { type LimitsApp, type LogRow, MASTER, START, startLimitsApp, sum, uniqueEmail } from '../support/limits.js';

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

const DAY = 86_400_000;

/** The daily series the log implies: per UTC day and model, sorted by day then model. */
function expectedDaily(rows: LogRow[]): Daily[] {
  const byKey = new Map<string, Daily>();
  for (const r of rows) {
    const date = new Date(Math.floor(r.at / DAY) * DAY).toISOString().slice(0, 10);
    const k = `${date} ${r.model}`;
    const d = byKey.get(k) ?? {
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
    d.costMicros += r.cost;
    byKey.set(k, d);
  }
  return [...byKey.values()].sort((x, y) =>
    x.date === y.date ? x.model.localeCompare(y.model) : x.date.localeCompare(y.date),
  );
}

async function signIn(call: Call, who: SignedIn): Promise<string> {
  const res = await call<{ accessToken: string }>('POST', '/api/auth/login', {
    body: { email: who.email, password: 'correct horse 1' },
  });
  expect(res.status).toBe(200);
  return res.body.accessToken;
}

describe.each(ENGINES)('usage API (%s)', (engine) => {
  describe.each(BACKENDS)('%s counters', (backend) => {
    let a: LimitsApp;
    const clock = new ManualClock(START);
    let dev: SignedIn;
    let other: SignedIn;
    let mine: { secret: string; id: string };
    let spare: { secret: string; id: string };
    let theirs: { secret: string; id: string };

    beforeAll(async () => {
      a = await startLimitsApp({ backend, engine, clock });
      dev = await register(a.call, uniqueEmail('dev'));
      other = await register(a.call, uniqueEmail('other'));
      const k1 = await a.newKey({ budgetMicros: 100_000, budgetPeriod: 'day' }, dev.token);
      const k2 = await a.newKey({ tokenQuota: 50_000, tokenQuotaPeriod: 'week' }, dev.token);
      const k3 = await a.newKey({}, other.token);
      mine = { secret: k1.secret, id: k1.key.id };
      spare = { secret: k2.secret, id: k2.key.id };
      theirs = { secret: k3.secret, id: k3.key.id };

      // Three UTC days of traffic: chat, reasoning, embeddings and messages, on two keys.
      clock.time = START - 2 * DAY;
      for (let i = 0; i < 2; i++) expect((await a.chat(mine.secret)).status).toBe(200);
      expect((await a.embed(mine.secret)).status).toBe(200);
      clock.time = START - DAY + 3_600_000;
      expect((await a.chat(mine.secret, { model: 'mock-reasoner', max_tokens: 30 })).status).toBe(200);
      expect((await a.messages(spare.secret)).status).toBe(200);
      clock.time = START;
      for (let i = 0; i < 3; i++) expect((await a.chat(mine.secret, { max_tokens: 5 + i })).status).toBe(200);
      expect((await a.embed(spare.secret, { input: ['one', 'two', 'three'] })).status).toBe(200);
      expect((await a.chat(theirs.secret)).status).toBe(200);
    });
    afterAll(async () => a?.close());

    it("shows the caller's user and each active key, with today's numbers from the log", async () => {
      const revoked = await a.newKey({}, dev.token);
      expect((await a.call('DELETE', `/api/keys/${revoked.key.id}`, { token: dev.token })).status).toBe(204);
      const usage = await a.usage(dev.token);
      expect(usage.keys.map((k) => k.id).sort()).toEqual([mine.id, spare.id].sort());

      const today = Date.UTC(2026, 10, 22);
      const mineRows = (await a.logs('key_id', mine.id)).filter((r) => r.at >= today);
      const mineUsage = usage.keys.find((k) => k.id === mine.id)?.usage;
      expect(mineUsage?.spend).toEqual({
        period: 'day',
        used: sum(mineRows, (r) => r.cost),
        limit: 100_000,
        remaining: 100_000 - sum(mineRows, (r) => r.cost),
        resetsAt: Date.UTC(2026, 10, 23),
      });
      expect(mineUsage?.limits).toMatchObject({ budgetMicros: 100_000, budgetPeriod: 'day' });

      // The weekly quota of the other key covers Monday 16th to now: all of its traffic.
      const spareRows = await a.logs('key_id', spare.id);
      const spareUsage = usage.keys.find((k) => k.id === spare.id)?.usage;
      expect(spareUsage?.tokens).toEqual({
        period: 'week',
        used: sum(spareRows, (r) => r.tokens),
        limit: 50_000,
        remaining: 50_000 - sum(spareRows, (r) => r.tokens),
        resetsAt: Date.UTC(2026, 10, 23),
      });
      expect(spareUsage?.requests).toBe(spareRows.length);

      // The user's (unlimited, monthly) meters add up both keys.
      const userRows = await a.logs('user_id', dev.userId);
      expect(usage.user?.id).toBe(dev.userId);
      expect(usage.user?.usage.spend).toEqual({
        period: 'month',
        used: sum(userRows, (r) => r.cost),
        limit: null,
        remaining: null,
        resetsAt: Date.UTC(2026, 11, 1),
      });
      expect(usage.user?.usage.tokens.used).toBe(sum(userRows, (r) => r.tokens));
      expect(usage.user?.usage.requests).toBe(userRows.length);

      // And the enforcer counts exactly the same.
      expect(await a.counter({ type: 'key', id: mine.id }, 'cost', 'day')).toBe(mineUsage?.spend.used);
      expect(await a.counter({ type: 'user', id: dev.userId }, 'tokens', 'month')).toBe(usage.user?.usage.tokens.used);
    });

    it('answers an API key caller for that key only', async () => {
      const usage = await a.usage(spare.secret);
      expect(usage.user).toBeNull();
      expect(usage.keys.map((k) => k.id)).toEqual([spare.id]);
      const history = await a.call<{ data: Daily[] }>(
        'GET',
        `/api/usage/history?keyId=${theirs.id}&from=${START - 5 * DAY}`,
        { token: spare.secret },
      );
      expect(history.status).toBe(200);
      // The keyId of someone else's key is ignored: the calling key sees itself.
      expect(history.body.data).toEqual(expectedDaily(await a.logs('key_id', spare.id)));
      expect((await a.call('GET', '/api/usage/current', { token: 'sk-not-a-key' })).status).toBe(401);
      expect((await a.call('GET', '/api/usage/current')).status).toBe(401);
    });

    it('gives a daily series by model that matches the log, for the user or one key', async () => {
      const token = await signIn(a.call, dev);
      const from = START - 5 * DAY;
      const all = await a.call<{ data: Daily[] }>('GET', `/api/usage/history?from=${from}`, { token });
      expect(all.status).toBe(200);
      const userRows = await a.logs('user_id', dev.userId);
      expect(all.body.data).toEqual(expectedDaily(userRows));
      expect(all.body.data.map((d) => [d.date, d.model, d.requests])).toEqual([
        ['2026-11-20', 'mock-embedding', 1],
        ['2026-11-20', 'mock-gpt', 2],
        ['2026-11-21', 'mock-gpt', 1],
        ['2026-11-21', 'mock-reasoner', 1],
        ['2026-11-22', 'mock-embedding', 1],
        ['2026-11-22', 'mock-gpt', 3],
      ]);

      const oneKey = await a.call<{ data: Daily[] }>('GET', `/api/usage/history?keyId=${mine.id}&from=${from}`, {
        token,
      });
      expect(oneKey.body.data).toEqual(expectedDaily(await a.logs('key_id', mine.id)));

      // from/to select whole records by time: only the middle day.
      const middle = await a.call<{ data: Daily[] }>('GET', `/api/usage/history?from=${START - DAY}&to=${START - 1}`, {
        token,
      });
      expect(middle.body.data.map((d) => d.date)).toEqual(['2026-11-21', '2026-11-21']);
      // The default range is the last 30 days.
      expect((await a.call<{ data: Daily[] }>('GET', '/api/usage/history', { token })).body.data).toEqual(
        all.body.data,
      );
    });

    it("keeps other users' keys out of reach", async () => {
      const token = await signIn(a.call, dev);
      const res = await a.call<{ error: { code: string } }>('GET', `/api/usage/history?keyId=${theirs.id}`, { token });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect((await a.call('GET', `/api/usage/history?keyId=key_unknown`, { token })).status).toBe(404);
      // Admins may look at any key.
      const admin = await a.call<{ data: Daily[] }>('GET', `/api/usage/history?keyId=${theirs.id}`, { token: MASTER });
      expect(admin.status).toBe(200);
      expect(admin.body.data).toEqual(expectedDaily(await a.logs('key_id', theirs.id)));
    });

    it('reads whole days of the history from the daily rollups: purged log rows still count', async () => {
      const token = await signIn(a.call, dev);
      // A range that starts and ends inside a day: its edges come from the log, the days between from rollups.
      const from = START - 2 * DAY;
      const before = await a.call<{ data: Daily[] }>('GET', `/api/usage/history?from=${from}&to=${START + 1}`, {
        token,
      });
      expect(before.status).toBe(200);
      const rows = (await a.logs('user_id', dev.userId)).filter((r) => r.at >= from && r.at < START + 1);
      expect(before.body.data).toEqual(expectedDaily(rows));
      expect(before.body.data.map((d) => d.date)).toContain('2026-11-21');
      // Retention deletes the middle day's rows from the log; its rollups stay, so the answer does not change.
      const db = a.t.database.handle.db;
      await db
        .deleteFrom('request_logs')
        .where('at', '>=', START - DAY - (START % DAY))
        .where('at', '<', START - (START % DAY))
        .execute();
      const after = await a.call<{ data: Daily[] }>('GET', `/api/usage/history?from=${from}&to=${START + 1}`, {
        token,
      });
      expect(after.body.data).toEqual(before.body.data);
    });

    it('refuses a backwards or too long range', async () => {
      const token = await signIn(a.call, dev);
      const backwards = await a.call<{ error: { message: string } }>(
        'GET',
        `/api/usage/history?from=${START}&to=${START - 1}`,
        { token },
      );
      expect(backwards.status).toBe(400);
      expect(backwards.body.error.message).toContain('from');
      const long = await a.call('GET', `/api/usage/history?from=${START - 401 * DAY}&to=${START}`, { token });
      expect(long.status).toBe(400);
    });
  });
});
