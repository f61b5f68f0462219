/**
 * Channel operations: tags (and model routes to a tag), bulk actions, copy, testing every channel at once
 * (NDJSON), the upstream's model list and account balance — on every database engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, type ErrorBody } from '../support/accounts.js';
import { register } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { start as startAnthropic } from '../support/fakes/anthropic.js';
import { start as startGemini } from '../support/fakes/gemini.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import { start as startOpenAi } from '../support/fakes/openai.js';
import { startSurfaceFake } from '../support/fakes/surface.js';
import { addChannel, addModel, type GatewayUnderTest, postRaw, startGateway, uniqueEmail } from '../support/gateway.js';

interface Channel {
  id: string;
  name: string;
  status: string;
  tags: string[];
  keys: Array<{ hint: string }>;
  balance: {
    currency: string;
    remainingMicros: number | null;
    usedMicros: number | null;
    limitMicros: number | null;
    fetchedAt: number;
  } | null;
}

interface TestRow {
  channelId: string;
  channelName: string;
  model: string | null;
  kind: string | null;
  ok: boolean;
  latencyMs: number;
  status: number | null;
  error: string | null;
  done?: boolean;
  total?: number;
  failed?: number;
}

const WRONG_KEY = 'sk-proj-SECRETwrongKEY000000000000000000000000';

describe.each(ENGINES)('channel operations (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let openai: FakeUpstream;
  let deepseek: FakeUpstream;
  let anthropic: FakeUpstream;
  let gemini: FakeUpstream;
  let cohere: FakeUpstream;
  let developer: string;
  const ids = { openai: '', wrong: '', deepseek: '', anthropic: '', gemini: '', cohere: '' };

  const admin = <T>(method: string, path: string, body?: unknown) =>
    gw.call<T>(method, path, { token: gw.admin.token, body });
  const channel = async (id: string) => (await admin<Channel>('GET', `/api/admin/channels/${id}`)).body;
  const chat = (model: string) =>
    postRaw(
      `${gw.url}/v1/chat/completions`,
      { model, messages: [{ role: 'user', content: 'Hi' }] },
      { authorization: `Bearer ${gw.key}` },
    );
  const testAll = async (body: unknown): Promise<{ status: number; type: string; rows: TestRow[] }> => {
    const res = await fetch(`${gw.url}/api/admin/channels/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      rows: text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as TestRow),
    };
  };

  beforeAll(async () => {
    gw = await startGateway(engine);
    developer = (await register(gw.call, uniqueEmail('ops-dev'))).token;
    openai = await startOpenAi({ flavor: 'openai' });
    deepseek = await startOpenAi({ flavor: 'deepseek' });
    anthropic = await startAnthropic();
    gemini = await startGemini();
    cohere = await startSurfaceFake('cohere');
    ids.openai = (
      await addChannel(gw, { name: 'ops-openai', type: 'openai', baseUrl: openai.baseUrl, keys: [openai.key] })
    ).id;
    ids.wrong = (
      await addChannel(gw, { name: 'ops-wrong', type: 'openai', baseUrl: openai.baseUrl, keys: [WRONG_KEY] })
    ).id;
    ids.deepseek = (
      await addChannel(gw, {
        name: 'ops-deepseek',
        type: 'openai-compatible',
        baseUrl: deepseek.baseUrl,
        keys: [deepseek.key],
        options: { provider: { balanceApi: 'deepseek' } },
      })
    ).id;
    ids.anthropic = (
      await addChannel(gw, {
        name: 'ops-anthropic',
        type: 'anthropic',
        baseUrl: anthropic.baseUrl,
        keys: [anthropic.key],
      })
    ).id;
    ids.gemini = (
      await addChannel(gw, { name: 'ops-gemini', type: 'gemini', baseUrl: gemini.baseUrl, keys: [gemini.key] })
    ).id;
    ids.cohere = (
      await addChannel(gw, { name: 'ops-cohere', type: 'cohere', baseUrl: cohere.baseUrl, keys: [cohere.key] })
    ).id;
    await addModel(gw, { name: 'ops-gpt', routes: [{ channelId: ids.openai, upstreamModel: 'gpt-4o' }] });
    await addModel(gw, {
      name: 'ops-embed',
      capabilities: ['embeddings'],
      routes: [{ channelId: ids.openai, upstreamModel: 'text-embedding-3-small' }],
    });
    await addModel(gw, { name: 'ops-wrong', routes: [{ channelId: ids.wrong, upstreamModel: 'gpt-4o' }] });
    await addModel(gw, {
      name: 'ops-rerank',
      capabilities: ['rerank'],
      routes: [{ channelId: ids.cohere, upstreamModel: 'rerank-v3.5' }],
    });
  }, 60_000);
  afterAll(async () => {
    for (const fake of [openai, deepseek, anthropic, gemini, cohere]) await fake?.close();
    await gw?.t.close();
  });

  describe('tags and routes to a tag', () => {
    it('keeps tags on a channel, lists the tags in use, and refuses a malformed one', async () => {
      const patched = await admin<Channel>('PATCH', `/api/admin/channels/${ids.deepseek}`, {
        tags: ['eu', 'cheap', 'eu'],
      });
      expect(patched.status).toBe(200);
      expect(patched.body.tags).toEqual(['cheap', 'eu']);
      const names = await admin<{ data: string[] }>('GET', '/api/admin/channel-tags');
      expect(names.body.data).toEqual(expect.arrayContaining(['cheap', 'eu']));
      const bad = await admin<ErrorBody>('PATCH', `/api/admin/channels/${ids.deepseek}`, { tags: ['no spaces'] });
      expect(bad.status).toBe(400);
    });

    it('a model route naming a tag reaches every channel with it, and follows tag changes', async () => {
      const a = await addChannel(gw, {
        name: 'ops-tag-a',
        type: 'openai',
        baseUrl: openai.baseUrl,
        keys: [openai.key],
      });
      const model = await gw.call<{ tagRoutes: Array<{ tag: string }> }>('POST', '/api/admin/models', {
        token: gw.admin.token,
        body: { name: 'ops-tagged', tagRoutes: [{ tag: 'gpt-pool', upstreamModel: 'gpt-4o' }] },
      });
      expect(model.status).toBe(201);
      expect(model.body.tagRoutes).toEqual([expect.objectContaining({ tag: 'gpt-pool' })]);
      // No channel has the tag yet: the model has no route.
      expect((await chat('ops-tagged')).status).toBe(503);
      const tagged = await admin('POST', '/api/admin/channels/bulk', {
        ids: [a.id],
        action: 'tag',
        tags: ['gpt-pool'],
      });
      expect(tagged.status).toBe(200);
      const before = openai.requests.length;
      const ok = await chat('ops-tagged');
      expect(ok.status).toBe(200);
      expect(openai.requests.length).toBe(before + 1);
      expect((openai.last().body as { model: string }).model).toBe('gpt-4o');
      await admin('POST', '/api/admin/channels/bulk', { ids: [a.id], action: 'untag', tags: ['gpt-pool'] });
      expect((await channel(a.id)).tags).toEqual([]);
      expect((await chat('ops-tagged')).status).toBe(503);
    });

    it('refuses a tag route with a malformed tag', async () => {
      const res = await admin<ErrorBody>('POST', '/api/admin/models', {
        name: 'ops-bad-tag',
        tagRoutes: [{ tag: '../x' }],
      });
      expect(res.status).toBe(400);
    });
  });

  describe('bulk actions', () => {
    it('disables and enables several channels at once, audited; routing follows', async () => {
      const off = await admin<{ ids: string[] }>('POST', '/api/admin/channels/bulk', {
        ids: [ids.openai, ids.wrong],
        action: 'disable',
      });
      expect(off.status).toBe(200);
      expect(off.body.ids.sort()).toEqual([ids.openai, ids.wrong].sort());
      expect((await channel(ids.openai)).status).toBe('disabled');
      expect((await chat('ops-gpt')).status).toBe(503);
      await admin('POST', '/api/admin/channels/bulk', { ids: [ids.openai, ids.wrong], action: 'enable' });
      expect((await channel(ids.openai)).status).toBe('active');
      expect((await chat('ops-gpt')).status).toBe(200);
      const rows = await auditRows(gw.t, { action: 'channel.bulk_disable' });
      expect(rows[0]?.detail).toMatchObject({ ids: expect.arrayContaining([ids.openai, ids.wrong]) });
    });

    it('refuses unknown ids without changing anything, and tag without tags', async () => {
      const res = await admin<ErrorBody>('POST', '/api/admin/channels/bulk', {
        ids: [ids.openai, 'chn_missing'],
        action: 'disable',
      });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('chn_missing');
      expect((await channel(ids.openai)).status).toBe('active');
      const noTags = await admin<ErrorBody>('POST', '/api/admin/channels/bulk', { ids: [ids.openai], action: 'tag' });
      expect(noTags.status).toBe(400);
      const badAction = await admin<ErrorBody>('POST', '/api/admin/channels/bulk', {
        ids: [ids.openai],
        action: 'explode',
      });
      expect(badAction.status).toBe(400);
    });

    it('deletes several channels with their routes', async () => {
      const x = await addChannel(gw, { name: 'ops-del-x', type: 'mock' });
      const y = await addChannel(gw, { name: 'ops-del-y', type: 'mock' });
      await addModel(gw, { name: 'ops-del', routes: [{ channelId: x.id }, { channelId: y.id }] });
      const res = await admin('POST', '/api/admin/channels/bulk', { ids: [x.id, y.id], action: 'delete' });
      expect(res.status).toBe(200);
      expect((await admin('GET', `/api/admin/channels/${x.id}`)).status).toBe(404);
      const models = await admin<{ data: Array<{ name: string; routes: unknown[] }> }>('GET', '/api/admin/models');
      expect(models.body.data.find((m) => m.name === 'ops-del')?.routes).toEqual([]);
    });

    it('needs channels.manage and a session', async () => {
      const body = { ids: [ids.openai], action: 'disable' };
      expect((await gw.call('POST', '/api/admin/channels/bulk', { body })).status).toBe(401);
      expect((await gw.call('POST', '/api/admin/channels/bulk', { token: developer, body })).status).toBe(403);
      expect((await channel(ids.openai)).status).toBe('active');
    });
  });

  describe('copy', () => {
    it('copies settings and keys, disabled by default, with a free name', async () => {
      const first = await admin<Channel>('POST', `/api/admin/channels/${ids.openai}/copy`, {});
      expect(first.status).toBe(201);
      expect(first.body.name).toBe('ops-openai (copy)');
      expect(first.body.status).toBe('disabled');
      expect(first.body.keys.map((k) => k.hint)).toEqual((await channel(ids.openai)).keys.map((k) => k.hint));
      const second = await admin<Channel>('POST', `/api/admin/channels/${ids.openai}/copy`, { enabled: true });
      expect(second.body.name).toBe('ops-openai (copy 2)');
      expect(second.body.status).toBe('active');
      // The copied key works upstream: the copy's test passes.
      const test = await admin<{ ok: boolean }>('POST', `/api/admin/channels/${first.body.id}/test`, {
        model: 'gpt-4o',
      });
      expect(test.body.ok).toBe(true);
      const taken = await admin<ErrorBody>('POST', `/api/admin/channels/${ids.openai}/copy`, { name: 'ops-wrong' });
      expect(taken.status).toBe(409);
      expect((await admin('POST', '/api/admin/channels/chn_missing/copy', {})).status).toBe(404);
      expect(
        (await gw.call('POST', `/api/admin/channels/${ids.openai}/copy`, { token: developer, body: {} })).status,
      ).toBe(403);
      await admin('POST', '/api/admin/channels/bulk', { ids: [first.body.id, second.body.id], action: 'delete' });
    });
  });

  describe('test all', () => {
    it('streams one NDJSON row per channel as results come, then a summary', async () => {
      const res = await testAll({ ids: [ids.openai, ids.wrong, ids.cohere, ids.gemini] });
      expect(res.status).toBe(200);
      expect(res.type).toContain('application/x-ndjson');
      const done = res.rows.at(-1) as TestRow;
      expect(done).toMatchObject({ done: true, total: 4, ok: 2, failed: 2 });
      const byId = new Map(res.rows.filter((r) => !r.done).map((r) => [r.channelId, r]));
      expect(byId.get(ids.openai)).toMatchObject({ ok: true, model: 'gpt-4o', kind: 'chat', status: 200 });
      expect(byId.get(ids.wrong)).toMatchObject({ ok: false, status: 401 });
      expect(byId.get(ids.wrong)?.error).not.toContain(WRONG_KEY);
      // A rerank-only provider is tested with a rerank request.
      expect(byId.get(ids.cohere)).toMatchObject({ ok: true, kind: 'rerank', model: 'rerank-v3.5' });
      expect(cohere.last().path).toBe('/v2/rerank');
      expect(byId.get(ids.gemini)).toMatchObject({
        ok: false,
        model: null,
        error: expect.stringContaining('No model'),
      });
    });

    it('tests every model of a channel with a fitting request when asked', async () => {
      const res = await testAll({ ids: [ids.openai], allModels: true });
      const rows = res.rows.filter((r) => !r.done);
      expect(rows.map((r) => [r.model, r.kind, r.ok]).sort()).toEqual([
        ['gpt-4o', 'chat', true],
        ['text-embedding-3-small', 'embeddings', true],
      ]);
    });

    it('filters by tag and type, and refuses bad input and other roles', async () => {
      const tagged = await testAll({ tag: 'cheap' });
      expect(tagged.rows.filter((r) => !r.done).map((r) => r.channelId)).toEqual([ids.deepseek]);
      const typed = await testAll({ type: 'cohere' });
      expect(typed.rows.filter((r) => !r.done).map((r) => r.channelId)).toEqual([ids.cohere]);
      expect((await testAll({ concurrency: 99 })).status).toBe(400);
      expect((await gw.call('POST', '/api/admin/channels/test', { token: developer, body: {} })).status).toBe(403);
    });
  });

  describe("the upstream's models", () => {
    it("lists a saved channel's upstream models per provider", async () => {
      const list = async (id: string) =>
        (await admin<{ data: string[] }>('GET', `/api/admin/channels/${id}/upstream-models`)).body.data;
      expect(await list(ids.openai)).toEqual(['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
      expect(await list(ids.deepseek)).toEqual(['deepseek-chat', 'deepseek-reasoner']);
      expect(await list(ids.anthropic)).toEqual(['claude-3-5-haiku-20241022', 'claude-sonnet-4-20250514']);
      expect(await list(ids.gemini)).toEqual(['gemini-2.5-flash', 'text-embedding-004']);
    });

    it('lists the models of an unsaved channel form, and reports a rejected key without echoing it', async () => {
      const ok = await admin<{ data: string[] }>('POST', '/api/admin/channels/upstream-models', {
        type: 'openai-compatible',
        baseUrl: deepseek.baseUrl,
        key: deepseek.key,
      });
      expect(ok.status).toBe(200);
      expect(ok.body.data).toContain('deepseek-chat');
      const wrong = await admin<ErrorBody>('POST', '/api/admin/channels/upstream-models', {
        type: 'openai',
        baseUrl: openai.baseUrl,
        key: WRONG_KEY,
      });
      expect(wrong.status).toBe(502);
      expect(JSON.stringify(wrong.body)).not.toContain(WRONG_KEY);
      const wrongChannel = await admin<ErrorBody>('GET', `/api/admin/channels/${ids.wrong}/upstream-models`);
      expect(wrongChannel.status).toBe(502);
      expect(JSON.stringify(wrongChannel.body)).not.toContain(WRONG_KEY);
    });

    it('refuses providers without a model list, bad input, unknown channels and other roles', async () => {
      const mock = await admin<ErrorBody>('POST', '/api/admin/channels/upstream-models', { type: 'mock' });
      expect(mock.status).toBe(400);
      const badType = await admin<ErrorBody>('POST', '/api/admin/channels/upstream-models', { type: 'nope' });
      expect(badType.status).toBe(400);
      const badUrl = await admin<ErrorBody>('POST', '/api/admin/channels/upstream-models', {
        type: 'openai-compatible',
        baseUrl: 'file:///etc/passwd',
      });
      expect(badUrl.status).toBe(400);
      expect((await admin('GET', '/api/admin/channels/chn_missing/upstream-models')).status).toBe(404);
      expect(
        (await gw.call('GET', `/api/admin/channels/${ids.openai}/upstream-models`, { token: developer })).status,
      ).toBe(403);
    });
  });

  describe('balance', () => {
    it("fetches DeepSeek's balance, keeps it on the channel, and shows it in the list", async () => {
      const res = await admin<Channel>('POST', `/api/admin/channels/${ids.deepseek}/balance`);
      expect(res.status).toBe(200);
      expect(res.body.balance).toMatchObject({
        currency: 'CNY',
        remainingMicros: 110_000_000,
        fetchedAt: expect.any(Number),
      });
      expect(deepseek.last().path).toBe('/user/balance');
      const list = await admin<{ data: Channel[] }>('GET', '/api/admin/channels');
      expect(list.body.data.find((c) => c.id === ids.deepseek)?.balance?.remainingMicros).toBe(110_000_000);
      expect(JSON.stringify(list.body)).not.toContain(deepseek.key);
    });

    it('reads OpenRouter credits and New API billing', async () => {
      const router = await addChannel(gw, {
        name: 'ops-openrouter',
        type: 'openai-compatible',
        baseUrl: openai.baseUrl,
        keys: [openai.key],
        options: { provider: { balanceApi: 'openrouter' } },
      });
      const a = await admin<Channel>('POST', `/api/admin/channels/${router.id}/balance`);
      expect(a.body.balance).toMatchObject({
        currency: 'USD',
        remainingMicros: 74_750_000,
        usedMicros: 25_750_000,
        limitMicros: 100_500_000,
      });
      const reseller = await addChannel(gw, {
        name: 'ops-reseller',
        type: 'openai-compatible',
        baseUrl: openai.baseUrl,
        keys: [openai.key],
      });
      const b = await admin<Channel>('POST', `/api/admin/channels/${reseller.id}/balance`);
      expect(b.status).toBe(200);
      // hard_limit_usd 50, total_usage 1234.5 cents.
      expect(b.body.balance).toMatchObject({
        currency: 'USD',
        limitMicros: 50_000_000,
        usedMicros: 12_345_000,
        remainingMicros: 37_655_000,
      });
      expect(openai.last().query.get('start_date')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    });

    it('refuses providers without a balance API, and other roles', async () => {
      expect((await admin<ErrorBody>('POST', `/api/admin/channels/${ids.anthropic}/balance`)).status).toBe(400);
      expect((await admin('POST', '/api/admin/channels/chn_missing/balance')).status).toBe(404);
      expect((await gw.call('POST', `/api/admin/channels/${ids.deepseek}/balance`, { token: developer })).status).toBe(
        403,
      );
    });
  });
});
