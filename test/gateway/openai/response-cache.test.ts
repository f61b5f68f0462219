/**
 * The response cache (docs/response-cache.md) as a client sees it: opt-in by header, key or model; a hit
 * answers the same body (or the same stream) without calling the upstream, is logged as a hit with no
 * upstream cost, and is never shared with another organization.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_CLIENT_OPTIONS } from '../../../src/infra/state/redis-options.js';
import { BACKENDS } from '../../support/app.js';
import { ENGINES } from '../../support/databases.js';
import { ProgrammableUpstream } from '../../support/fakes/programmable-upstream.js';
import {
  addChannel,
  addModel,
  type GatewayUnderTest,
  logOf,
  MASTER_KEY,
  PRICES,
  startGateway,
} from '../../support/gateway.js';

const CASES = [
  ...ENGINES.map((engine) => ({ engine, backend: 'memory' as const })),
  ...(BACKENDS.includes('redis') ? [{ engine: 'sqlite' as const, backend: 'redis' as const }] : []),
];

describe.each(CASES)('response cache ($engine, $backend)', ({ engine, backend }) => {
  let gw: GatewayUnderTest;
  let upstream: ProgrammableUpstream;
  let prompt = 0;

  /** A body no other test sends (each test starts with an empty cache for it). */
  const body = (extra: Record<string, unknown> = {}) => ({
    model: 'cached-model',
    messages: [{ role: 'user', content: `question ${++prompt} of ${engine}` }],
    ...extra,
  });

  async function chat(payload: unknown, headers: Record<string, string> = {}, key = gw.key) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    });
    return {
      status: res.status,
      cache: res.headers.get('x-aihub-cache'),
      id: res.headers.get('x-request-id'),
      text: await res.text(),
    };
  }

  /** Entries stored so far (the store writes off the request path). */
  async function entries(): Promise<number> {
    if (backend === 'redis') {
      const redis = new Redis(process.env.TEST_REDIS_URL as string, REDIS_CLIENT_OPTIONS);
      try {
        return (await redis.keys('*:rc:*')).length;
      } finally {
        redis.disconnect();
      }
    }
    const row = await gw.t.services.database.db
      .selectFrom('response_cache')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async function stored(before: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while ((await entries()) <= before) {
      if (Date.now() > deadline) throw new Error('the answer was not stored in the cache');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  beforeAll(async () => {
    upstream = await new ProgrammableUpstream().start();
    gw = await startGateway(engine, { backend });
    const channel = await addChannel(gw, { name: 'up', type: 'openai', baseUrl: upstream.url, keys: ['sk-up'] });
    await addModel(gw, { name: 'cached-model', ...PRICES, routes: [{ channelId: channel.id }] });
  });

  afterAll(async () => {
    await gw?.t.close();
    await upstream?.close();
  });

  it('is not used unless asked: every request goes upstream, no header, no cache mark in the log', async () => {
    const payload = body();
    const before = upstream.chatCount;
    const first = await chat(payload);
    const second = await chat(payload);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(upstream.chatCount - before).toBe(2);
    expect(second.cache).toBeNull();
    expect((await logOf(gw.t, second.id)).cache).toBeNull();
  });

  it('x-aihub-cache: on — a miss is stored, the same request is then answered from the cache', async () => {
    const payload = body();
    const before = upstream.chatCount;
    const stock = await entries();
    const first = await chat(payload, { 'x-aihub-cache': 'on' });
    expect(first).toMatchObject({ status: 200, cache: 'miss' });
    await stored(stock);
    const second = await chat(payload, { 'x-aihub-cache': 'on' });
    expect(second).toMatchObject({ status: 200, cache: 'hit' });
    expect(second.text).toBe(first.text);
    expect(upstream.chatCount - before).toBe(1);

    const missLog = await logOf(gw.t, first.id);
    const hitLog = await logOf(gw.t, second.id);
    expect(missLog).toMatchObject({ cache: 'miss', status: 200 });
    expect(missLog.costMicros).toBeGreaterThan(0);
    expect(hitLog).toMatchObject({ cache: 'hit', status: 200, costMicros: 0, priceMicros: 0, channelId: null });
    expect([hitLog.promptTokens, hitLog.completionTokens]).toEqual([missLog.promptTokens, missLog.completionTokens]);
  });

  it('a different body, or another caller organization, is a miss', async () => {
    const payload = body();
    const stock = await entries();
    await chat(payload, { 'x-aihub-cache': 'on' });
    await stored(stock);
    const other = await chat({ ...payload, temperature: 0.5 }, { 'x-aihub-cache': 'on' });
    expect(other.cache).toBe('miss');
    // The master key belongs to no organization: it never sees the organization's entries.
    const master = await chat(payload, { 'x-aihub-cache': 'on' }, MASTER_KEY);
    expect(master).toMatchObject({ status: 200, cache: 'miss' });
  });

  it('refresh asks the upstream again and replaces the entry; off bypasses the cache', async () => {
    const payload = body();
    const stock = await entries();
    await chat(payload, { 'x-aihub-cache': 'on' });
    await stored(stock);
    const before = upstream.chatCount;
    const refreshed = await chat(payload, { 'x-aihub-cache': 'refresh' });
    expect(refreshed.cache).toBe('miss');
    const off = await chat(payload, { 'x-aihub-cache': 'off' });
    expect(off.cache).toBeNull();
    expect(upstream.chatCount - before).toBe(2);
    expect((await chat(payload, { 'x-aihub-cache': 'on' })).cache).toBe('hit');
  });

  it('an unknown header value is a 400 in the OpenAI shape', async () => {
    const res = await chat(body(), { 'x-aihub-cache': 'sometimes' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: { param: 'x-aihub-cache' } });
  });

  it('replays a stream as the same SSE text', async () => {
    const payload = body({ stream: true, stream_options: { include_usage: true } });
    const before = upstream.chatCount;
    const stock = await entries();
    const first = await chat(payload, { 'x-aihub-cache': 'on' });
    expect(first).toMatchObject({ status: 200, cache: 'miss' });
    expect(first.text).toContain('data: [DONE]');
    await stored(stock);
    const second = await chat(payload, { 'x-aihub-cache': 'on' });
    expect(second).toMatchObject({ status: 200, cache: 'hit' });
    expect(second.text).toBe(first.text);
    expect(upstream.chatCount - before).toBe(1);
    expect(await logOf(gw.t, second.id)).toMatchObject({ cache: 'hit', stream: true, costMicros: 0 });
  });

  it('a key that opted in is cached without the header (and off still turns it off)', async () => {
    const res = await gw.call('PATCH', `/api/keys/${gw.keyId}`, {
      token: gw.admin.token,
      body: { responseCache: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ responseCache: true });
    try {
      const payload = body();
      const stock = await entries();
      expect((await chat(payload)).cache).toBe('miss');
      await stored(stock);
      expect((await chat(payload)).cache).toBe('hit');
      expect((await chat(payload, { 'x-aihub-cache': 'off' })).cache).toBeNull();
    } finally {
      await gw.call('PATCH', `/api/keys/${gw.keyId}`, { token: gw.admin.token, body: { responseCache: false } });
    }
  });

  it('a model with a cache TTL is cached without the header; errors are never stored', async () => {
    const models = await gw.call<{ data: Array<{ id: string; name: string }> }>('GET', '/api/admin/models', {
      token: gw.admin.token,
    });
    const model = models.body.data.find((m) => m.name === 'cached-model');
    const patched = await gw.call('PATCH', `/api/admin/models/${model?.id}`, {
      token: gw.admin.token,
      body: { cacheTtlSeconds: 600 },
    });
    expect(patched.body).toMatchObject({ cacheTtlSeconds: 600 });
    try {
      const failing = body();
      upstream.next({
        kind: 'status',
        status: 400,
        body: { error: { message: 'bad', type: 'invalid_request_error' } },
      });
      expect((await chat(failing)).status).toBe(400);
      const again = await chat(failing);
      expect(again).toMatchObject({ status: 200, cache: 'miss' });

      const payload = body();
      const stock = await entries();
      await chat(payload);
      await stored(stock);
      expect((await chat(payload)).cache).toBe('hit');
    } finally {
      await gw.call('PATCH', `/api/admin/models/${model?.id}`, {
        token: gw.admin.token,
        body: { cacheTtlSeconds: null },
      });
    }
  });

  it('charges a hit the configured share of the price, and skips answers above the size limit', async () => {
    const set = (body: Record<string, unknown>) =>
      gw.call('PATCH', '/api/admin/settings', { token: gw.admin.token, body });
    expect((await set({ responseCacheHitChargePercent: 50 })).status).toBe(200);
    try {
      const payload = body();
      const stock = await entries();
      const first = await chat(payload, { 'x-aihub-cache': 'on' });
      await stored(stock);
      const hit = await chat(payload, { 'x-aihub-cache': 'on' });
      const full = (await logOf(gw.t, first.id)).priceMicros;
      expect((await logOf(gw.t, hit.id)).priceMicros).toBe(Math.round(full / 2));

      expect((await set({ responseCacheMaxEntryBytes: 1024 })).status).toBe(200);
      upstream.always({ kind: 'ok', text: 'x'.repeat(4_000) });
      const large = body();
      const before = upstream.chatCount;
      expect((await chat(large, { 'x-aihub-cache': 'on' })).cache).toBe('miss');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await chat(large, { 'x-aihub-cache': 'on' })).cache).toBe('miss');
      expect(upstream.chatCount - before).toBe(2);
    } finally {
      upstream.always({ kind: 'ok' });
      await set({ responseCacheHitChargePercent: 0, responseCacheMaxEntryBytes: 1_048_576 });
    }
  });
});
