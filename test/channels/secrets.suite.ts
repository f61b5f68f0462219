/**
 * Provider keys are write-only: they reach the upstream and nothing else. Every admin answer about
 * channels, every request log row (and its CSV export), every error message and the audit log are
 * checked for them. Also the channel test endpoint (`POST /api/admin/channels/{id}/test`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallResult, register } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { start as startAnthropic } from '../support/fakes/anthropic.js';
import { start as startGemini } from '../support/fakes/gemini.js';
import { type FakeUpstream, header } from '../support/fakes/http.js';
import { start as startOpenAi } from '../support/fakes/openai.js';
import {
  addChannel,
  addModel,
  type GatewayUnderTest,
  logOf,
  postRaw,
  rawLogRow,
  startGateway,
  uniqueEmail,
} from '../support/gateway.js';

interface TestResult {
  ok: boolean;
  latencyMs: number;
  model: string;
  status: number | null;
  error: string | null;
  reply: string | null;
}

/** Distinctive provider keys, and a wrong one the fakes reject. */
const KEYS = {
  openai: 'sk-proj-SECRETopenai4f9Qm2Lx7Vw4Rt8Zp3Kd6Hs1Ja5Xc0Bn',
  anthropic: 'sk-ant-api03-SECRETanthropic7Tq2Wm9Lx4Vb8Zc3Nd6Rf1',
  gemini: 'AIzaSySECRETgemini0123456789abcdefghijkl',
  wrong: 'sk-proj-SECRETwrong0000000000000000000000000000000',
};
const ALL_KEYS = Object.values(KEYS);

/** A key leaks if it appears whole, or its middle part does (hints show only the ends). */
function expectNoKey(text: string): void {
  for (const key of ALL_KEYS) {
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(6, -6));
  }
}

/** Registers this suite in the calling test file (one test process hosts several suites). */
export function secretsSuite(): void {
  describe.each(ENGINES)('provider keys stay secret (%s)', (engine) => {
    let gw: GatewayUnderTest;
    let openai: FakeUpstream;
    let anthropic: FakeUpstream;
    let gemini: FakeUpstream;
    const answers: string[] = [];
    const ids = { openai: '', anthropic: '', gemini: '', wrong: '' };

    const admin = async <T>(method: string, path: string, body?: unknown): Promise<CallResult<T>> => {
      const res = await gw.call<T>(method, path, { token: gw.admin.token, body });
      answers.push(`${method} ${path} ${res.status} ${JSON.stringify(res.body)}`);
      return res;
    };

    beforeAll(async () => {
      gw = await startGateway(engine);
      openai = await startOpenAi({ flavor: 'openai', key: KEYS.openai });
      anthropic = await startAnthropic({ key: KEYS.anthropic });
      gemini = await startGemini({ key: KEYS.gemini });
      const created = [
        await addChannel(gw, { name: 'sec-openai', type: 'openai', baseUrl: openai.baseUrl, keys: [KEYS.openai] }),
        await addChannel(gw, {
          name: 'sec-anthropic',
          type: 'anthropic',
          baseUrl: anthropic.baseUrl,
          keys: [KEYS.anthropic],
        }),
        await addChannel(gw, { name: 'sec-gemini', type: 'gemini', baseUrl: gemini.baseUrl, keys: [KEYS.gemini] }),
        await addChannel(gw, { name: 'sec-wrong', type: 'openai', baseUrl: openai.baseUrl, keys: [KEYS.wrong] }),
      ];
      answers.push(...created.map((c) => JSON.stringify(c)));
      [ids.openai, ids.anthropic, ids.gemini, ids.wrong] = created.map((c) => c.id) as [string, string, string, string];
      await addModel(gw, { name: 'sec-gpt', routes: [{ channelId: ids.openai, upstreamModel: 'gpt-4o' }] });
      await addModel(gw, {
        name: 'sec-claude',
        routes: [{ channelId: ids.anthropic, upstreamModel: 'claude-sonnet-4-5' }],
      });
      await addModel(gw, {
        name: 'sec-gemini',
        routes: [{ channelId: ids.gemini, upstreamModel: 'gemini-2.5-flash' }],
      });
      await addModel(gw, { name: 'sec-wrong', routes: [{ channelId: ids.wrong, upstreamModel: 'gpt-4o' }] });
    });
    afterAll(async () => {
      for (const fake of [openai, anthropic, gemini]) await fake?.close();
      await gw?.t.close();
    });

    it('the channel API shows keys only as hints (create, list, get, update)', async () => {
      const list = await admin<{ data: Array<{ id: string; keys: Array<{ hint: string }> }> }>(
        'GET',
        '/api/admin/channels',
      );
      expect(list.status).toBe(200);
      const one = await admin<{ keys: Array<{ id: string; hint: string; status: string }> }>(
        'GET',
        `/api/admin/channels/${ids.openai}`,
      );
      expect(one.body.keys).toEqual([
        { id: expect.any(String), hint: `${KEYS.openai.slice(0, 3)}…${KEYS.openai.slice(-4)}`, status: 'active' },
      ]);
      const patched = await admin('PATCH', `/api/admin/channels/${ids.gemini}`, { keys: [KEYS.gemini], weight: 2 });
      expect(patched.status).toBe(200);
      expectNoKey(answers.join('\n'));
    });

    it('the key reaches the upstream in its auth header, and only there', async () => {
      const res = await postRaw(
        `${gw.url}/v1/chat/completions`,
        { model: 'sec-gpt', messages: [{ role: 'user', content: 'Hi' }] },
        { authorization: `Bearer ${gw.key}` },
      );
      expect(res.status).toBe(200);
      expect(header(openai.last().headers, 'authorization')).toBe(`Bearer ${KEYS.openai}`);
      expect(openai.last().raw).not.toContain(KEYS.openai);
      await postRaw(
        `${gw.url}/v1/chat/completions`,
        { model: 'sec-claude', messages: [{ role: 'user', content: 'Hi' }] },
        { authorization: `Bearer ${gw.key}` },
      );
      expect(header(anthropic.last().headers, 'x-api-key')).toBe(KEYS.anthropic);
      await postRaw(
        `${gw.url}/v1/chat/completions`,
        { model: 'sec-gemini', messages: [{ role: 'user', content: 'Hi' }] },
        { authorization: `Bearer ${gw.key}` },
      );
      expect(header(gemini.last().headers, 'x-goog-api-key')).toBe(KEYS.gemini);
      expect(gemini.last().query.toString()).not.toContain('SECRET');
      expectNoKey(res.text);
    });

    it('a rejected key: the error message, the log row, the logs API, the CSV export and the audit log carry no key', async () => {
      const res = await postRaw(
        `${gw.url}/v1/chat/completions`,
        { model: 'sec-wrong', messages: [{ role: 'user', content: 'Hi' }] },
        { authorization: `Bearer ${gw.key}` },
      );
      expect(res.status).toBe(502);
      const body = JSON.parse(res.text) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('upstream_auth_failed');
      // The fake quotes the key it was given, masked as OpenAI does; none of it may come through.
      expect(header(openai.last().headers, 'authorization')).toBe(`Bearer ${KEYS.wrong}`);
      expectNoKey(res.text);
      expect(res.text).not.toContain(KEYS.wrong.slice(-4));

      const row = await rawLogRow(gw.t, res.requestId as string);
      expect(row.status).toBe(502);
      expectNoKey(JSON.stringify(row));
      const logs = await admin('GET', '/api/admin/logs?limit=100');
      const csv = await gw.call('GET', '/api/admin/logs/export.csv', { token: gw.admin.token });
      const audit = await admin('GET', '/api/admin/audit?limit=100');
      const channels = await admin('GET', '/api/admin/channels');
      expect(csv.status).toBe(200);
      expect(audit.status).toBe(200);
      expectNoKey(
        `${JSON.stringify(logs.body)}\n${String(csv.body)}\n${JSON.stringify(audit.body)}\n${JSON.stringify(channels.body)}`,
      );
      expectNoKey(answers.join('\n'));
    });

    it('POST /api/admin/channels/{id}/test: ok with latency for a good channel', async () => {
      for (const [id, fake] of [
        [ids.openai, openai],
        [ids.anthropic, anthropic],
        [ids.gemini, gemini],
      ] as const) {
        fake.setScenario('text');
        const before = fake.requests.length;
        const res = await admin<TestResult>('POST', `/api/admin/channels/${id}/test`, {});
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ ok: true, status: 200, error: null });
        expect(Number.isInteger(res.body.latencyMs)).toBe(true);
        expect(res.body.latencyMs).toBeGreaterThanOrEqual(0);
        expect(typeof res.body.reply).toBe('string');
        expect(fake.requests.length).toBe(before + 1);
      }
      // The model to test with can be named.
      const named = await admin<TestResult>('POST', `/api/admin/channels/${ids.openai}/test`, { model: 'gpt-4o-mini' });
      expect(named.body).toMatchObject({ ok: true, model: 'gpt-4o-mini' });
      expect((openai.last().body as { model: string }).model).toBe('gpt-4o-mini');
    });

    it('POST /api/admin/channels/{id}/test: the upstream error for a rejected key, without the key', async () => {
      const res = await admin<TestResult>('POST', `/api/admin/channels/${ids.wrong}/test`, {});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: false, status: 401, reply: null });
      expect(res.body.error).toMatch(/key/i);
      expectNoKey(JSON.stringify(res.body));

      const unknown = await admin('POST', '/api/admin/channels/chn_does_not_exist/test', {});
      expect(unknown.status).toBe(404);
    });

    it('a non-admin cannot read channels or run a channel test', async () => {
      const user = await register(gw.call, uniqueEmail('not-admin'));
      const list = await gw.call('GET', '/api/admin/channels', { token: user.token });
      const test = await gw.call('POST', `/api/admin/channels/${ids.openai}/test`, { token: user.token, body: {} });
      const virtualKey = await gw.call('GET', '/api/admin/channels', { token: gw.key });
      expect(list.status).toBe(403);
      expect(test.status).toBe(403);
      expect(virtualKey.status).toBe(401);
    });

    it('every log row of this file is free of provider keys', async () => {
      await gw.t.services.recorder.flush();
      const rows = await gw.t.database.handle.db.selectFrom('request_logs').selectAll().execute();
      expect(rows.length).toBeGreaterThan(0);
      expectNoKey(JSON.stringify(rows));
      const anyRow = await logOf(gw.t, rows[0]?.id);
      expect(anyRow.id).toBe(rows[0]?.id);
    });
  });
}
