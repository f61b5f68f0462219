/**
 * The request-log API: GET /api/logs shows the caller's own requests only; GET /api/admin/logs shows
 * everyone's with filters (model, status, keyId, channelId, from/to, the `before` cursor) and is for
 * admins; both export CSV with a header row and one row per request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, type LogEntry } from '../../src/modules/usage/logs.js';
import { ManualClock, register, type SignedIn } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import { start as startOpenAi } from '../support/fakes/openai.js';
import {
  addChannel,
  addModel,
  createKey,
  type GatewayUnderTest,
  postRaw,
  startGateway,
  uniqueEmail,
} from '../support/gateway.js';

interface LogPage {
  data: LogEntry[];
  nextCursor: string | null;
}

/** Registers this suite in the calling test file (one test process hosts several suites). */
export function logsSuite(): void {
  describe.each(ENGINES)('request logs API (%s)', (engine) => {
    const clock = new ManualClock();
    let gw: GatewayUnderTest;
    let fake: FakeUpstream;
    let user: SignedIn;
    let userKey: { secret: string; id: string };
    const channels = { a: '', b: '', failing: '' };
    const times = { t0: 0, t1: 0, t2: 0 };
    /** Request ids by who sent them. */
    const sent = { admin: [] as string[], user: [] as string[] };

    const chat = async (key: string, model: string) => {
      const res = await postRaw(
        `${gw.url}/v1/chat/completions`,
        { model, messages: [{ role: 'user', content: 'Hi' }] },
        { authorization: `Bearer ${key}` },
      );
      return res.requestId as string;
    };
    const adminLogs = (query: string) => gw.call<LogPage>('GET', `/api/admin/logs?${query}`, { token: gw.admin.token });

    beforeAll(async () => {
      gw = await startGateway(engine, { clock });
      fake = await startOpenAi({ flavor: 'openai' });
      fake.setScenario('server_error');
      user = await register(gw.call, uniqueEmail('log-user'));
      userKey = await createKey(gw.call, user.token, 'user key');
      channels.a = (await addChannel(gw, { name: 'logs-mock-a', type: 'mock' })).id;
      channels.b = (await addChannel(gw, { name: 'logs-mock-b', type: 'mock' })).id;
      channels.failing = (
        await addChannel(gw, { name: 'logs-failing', type: 'openai', baseUrl: fake.baseUrl, keys: [fake.key] })
      ).id;
      await addModel(gw, { name: 'logs-a', routes: [{ channelId: channels.a, upstreamModel: 'mock-gpt' }] });
      await addModel(gw, { name: 'logs-b', routes: [{ channelId: channels.b, upstreamModel: 'mock-gpt' }] });
      await addModel(gw, { name: 'logs-fail', routes: [{ channelId: channels.failing, upstreamModel: 'gpt-4o' }] });

      times.t0 = clock.now();
      sent.admin.push(await chat(gw.key, 'logs-a'), await chat(gw.key, 'logs-a'));
      clock.advance(60_000);
      times.t1 = clock.now();
      sent.user.push(await chat(userKey.secret, 'logs-a'), await chat(userKey.secret, 'logs-fail'));
      clock.advance(60_000);
      times.t2 = clock.now();
      sent.admin.push(await chat(gw.key, 'logs-b'));
      await gw.t.services.recorder.flush();
    });
    afterAll(async () => {
      await fake?.close();
      await gw?.t.close();
    });

    it('GET /api/logs: a user sees exactly their own requests, newest first', async () => {
      const mine = await gw.call<LogPage>('GET', '/api/logs', { token: user.token });
      expect(mine.status).toBe(200);
      expect(mine.body.data.map((r) => r.id)).toEqual([...sent.user].reverse());
      expect(mine.body.data.every((r) => r.userId === user.userId && r.keyId === userKey.id)).toBe(true);
      // The admin holds logs.all: the whole organization by default, their own with scope=own.
      const admins = await gw.call<LogPage>('GET', '/api/logs?scope=own', { token: gw.admin.token });
      expect(admins.body.data.map((r) => r.id).sort()).toEqual([...sent.admin].sort());
      const everyone = await gw.call<LogPage>('GET', '/api/logs', { token: gw.admin.token });
      expect(everyone.body.data.map((r) => r.id).sort()).toEqual([...sent.admin, ...sent.user].sort());
      // A developer's widest reach is their own: asking for more gives no more.
      const wider = await gw.call<LogPage>('GET', '/api/logs?scope=all', { token: user.token });
      expect(wider.body.data.map((r) => r.id)).toEqual([...sent.user].reverse());
      // Filters cannot widen the view to someone else's rows.
      const sneaky = await gw.call<LogPage>('GET', `/api/logs?keyId=${gw.keyId}`, { token: user.token });
      expect(sneaky.body.data).toEqual([]);
    });

    it('GET /api/logs needs a session; /api/admin/logs is 403 for a non-admin', async () => {
      expect((await gw.call('GET', '/api/logs')).status).toBe(401);
      expect((await gw.call('GET', '/api/admin/logs', { token: user.token })).status).toBe(403);
      expect((await gw.call('GET', '/api/admin/logs/export.csv', { token: user.token })).status).toBe(403);
    });

    it('GET /api/admin/logs: everyone, filtered by model, status, key and channel', async () => {
      const all = await adminLogs('limit=100');
      expect(all.body.data).toHaveLength(5);
      expect((await adminLogs('model=logs-fail')).body.data.map((r) => r.id)).toEqual([sent.user[1]]);
      const errors = (await adminLogs('status=error')).body.data;
      expect(errors.map((r) => r.id)).toEqual([sent.user[1]]);
      expect(errors[0]).toMatchObject({ status: 502, errorCode: 'upstream_error', channelId: channels.failing });
      expect((await adminLogs('status=success')).body.data).toHaveLength(4);
      expect((await adminLogs('status=502')).body.data).toHaveLength(1);
      expect((await adminLogs(`keyId=${userKey.id}`)).body.data.map((r) => r.id).sort()).toEqual([...sent.user].sort());
      expect((await adminLogs(`channelId=${channels.b}`)).body.data.map((r) => r.id)).toEqual([sent.admin[2]]);
      expect((await adminLogs(`userId=${user.userId}&model=logs-a`)).body.data.map((r) => r.id)).toEqual([
        sent.user[0],
      ]);
    });

    it('GET /api/admin/logs: from/to select a time window ([from, to))', async () => {
      const window = await adminLogs(`from=${times.t1}&to=${times.t2}`);
      expect(window.body.data.map((r) => r.id).sort()).toEqual([...sent.user].sort());
      expect((await adminLogs(`to=${times.t1}`)).body.data.map((r) => r.id).sort()).toEqual(
        sent.admin.slice(0, 2).sort(),
      );
      expect((await adminLogs(`from=${times.t2}`)).body.data.map((r) => r.id)).toEqual([sent.admin[2]]);
      expect(window.body.data.every((r) => r.at >= times.t1 && r.at < times.t2)).toBe(true);
    });

    it('GET /api/admin/logs: the before cursor pages through everything once, newest first', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res: { body: LogPage } = await adminLogs(`limit=2${cursor ? `&before=${cursor}` : ''}`);
        seen.push(...res.body.data.map((r) => r.id));
        cursor = res.body.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
      expect(seen).toEqual([...seen].sort().reverse());
      expect(seen.sort()).toEqual([...sent.admin, ...sent.user].sort());
    });

    it('CSV export: a header row and one row per request (admin: all or filtered; user: own)', async () => {
      const parse = (text: string) => text.trimEnd().split('\n');
      const all = await gw.call<string>('GET', '/api/admin/logs/export.csv', { token: gw.admin.token });
      expect(all.status).toBe(200);
      expect(all.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(all.headers.get('content-disposition')).toMatch(/attachment/);
      const lines = parse(all.body);
      expect(lines[0]).toBe(CSV_COLUMNS.join(','));
      expect(lines).toHaveLength(1 + 5);
      const idColumn = CSV_COLUMNS.indexOf('id');
      expect(
        lines
          .slice(1)
          .map((l) => l.split(',')[idColumn])
          .sort(),
      ).toEqual([...sent.admin, ...sent.user].sort());

      const failing = parse(
        (await gw.call<string>('GET', '/api/admin/logs/export.csv?model=logs-fail', { token: gw.admin.token })).body,
      );
      expect(failing).toHaveLength(2);
      const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, failing[1]?.split(',')[i]]));
      expect(row).toMatchObject({
        id: sent.user[1],
        model: 'logs-fail',
        status: '502',
        error_code: 'upstream_error',
        user_id: user.userId,
      });

      const own = parse((await gw.call<string>('GET', '/api/logs/export.csv', { token: user.token })).body);
      expect(own).toHaveLength(1 + sent.user.length);
      expect(own.slice(1).every((l) => l.split(',')[CSV_COLUMNS.indexOf('user_id')] === user.userId)).toBe(true);
    });
  });
}
