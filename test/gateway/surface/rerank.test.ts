/**
 * POST /v1/rerank (the Cohere/Jina shape) to Cohere, Jina and OpenAI-compatible (vLLM-style) channels:
 * each upstream gets its own wire format, the client one answer shape; usage and cost in the request log;
 * bad input and channels without rerank handled as the client's problem. (No official rerank SDK is
 * installed: plain HTTP, as the Cohere and Jina docs show with curl.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import { startSurfaceFake } from '../../support/fakes/surface.js';
import { addChannel, addModel, type GatewayUnderTest, logOf, MASTER_KEY, startGateway } from '../../support/gateway.js';

const DOCUMENTS = [
  'Carson City is the capital city of the American state of Nevada.',
  'Washington, D.C. is the capital of the United States.',
  'Capital punishment has existed in the United States since before it was a country.',
  'The Commonwealth of the Northern Mariana Islands is a group of islands in the Pacific Ocean.',
];
const QUERY = 'What is the capital of the United States?';
const PRICE = { inputPrice: 50_000, outputPrice: 0 };

interface RerankAnswer {
  model: string;
  results: Array<{ index: number; relevance_score: number; document?: { text: string } }>;
  usage?: { total_tokens: number };
  meta?: { billed_units: { search_units: number } };
}

describe.each(ENGINES)('POST /v1/rerank (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let cohere: FakeUpstream;
  let jina: FakeUpstream;
  let vllm: FakeUpstream;
  const channels: Record<string, string> = {};

  const post = async (body: unknown, key = gw.key) => {
    const res = await fetch(`${gw.url}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as RerankAnswer & { error?: Record<string, unknown> },
      id: res.headers.get('x-request-id'),
    };
  };

  beforeAll(async () => {
    gw = await startGateway(engine);
    cohere = await startSurfaceFake('cohere');
    jina = await startSurfaceFake('jina');
    vllm = await startSurfaceFake('jina');
    const c = await addChannel(gw, { name: 'rr-cohere', type: 'cohere', baseUrl: cohere.baseUrl, keys: [cohere.key] });
    const j = await addChannel(gw, { name: 'rr-jina', type: 'jina', baseUrl: jina.baseUrl, keys: [jina.key] });
    const v = await addChannel(gw, {
      name: 'rr-vllm',
      type: 'openai-compatible',
      baseUrl: vllm.baseUrl,
      keys: [vllm.key],
    });
    const m = await addChannel(gw, { name: 'rr-mock', type: 'mock' });
    Object.assign(channels, { cohere: c.id, jina: j.id, vllm: v.id, mock: m.id });
    await addModel(gw, {
      name: 'rerank-cohere',
      ...PRICE,
      routes: [{ channelId: c.id, upstreamModel: 'rerank-v3.5' }],
    });
    await addModel(gw, {
      name: 'rerank-jina',
      ...PRICE,
      routes: [{ channelId: j.id, upstreamModel: 'jina-reranker-v2-base-multilingual' }],
    });
    await addModel(gw, {
      name: 'rerank-vllm',
      ...PRICE,
      routes: [{ channelId: v.id, upstreamModel: 'BAAI/bge-reranker-v2-m3' }],
    });
    await addModel(gw, { name: 'rerank-mock', ...PRICE, routes: [{ channelId: m.id }] });
    // Chat to a rerank-only channel fails over to the next channel (never blamed on the rerank channel).
    await addModel(gw, {
      name: 'chat-after-jina',
      routes: [
        { channelId: j.id, priority: 10 },
        { channelId: m.id, priority: 1 },
      ],
    });
  });
  afterAll(async () => {
    for (const fake of [cohere, jina, vllm]) await fake?.close();
    await gw?.t.close();
  });

  it('Cohere: v2 wire format up (string documents, no return_documents); documents added back; billed by counted tokens', async () => {
    const res = await post({
      model: 'rerank-cohere',
      query: QUERY,
      documents: DOCUMENTS,
      top_n: 2,
      return_documents: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.model).toBe('rerank-cohere');
    expect(res.body.results.map((r) => r.index)).toEqual([1, 2]);
    expect(res.body.results[0]?.document).toEqual({ text: DOCUMENTS[1] });
    expect(res.body.meta).toEqual({ billed_units: { search_units: 1 } });
    const sent = cohere.last();
    expect(sent.path).toBe('/v2/rerank');
    expect(sent.headers.authorization).toBe(`Bearer ${cohere.key}`);
    expect(sent.body).toEqual({ model: 'rerank-v3.5', query: QUERY, documents: DOCUMENTS, top_n: 2 });
    const row = await logOf(gw.t, res.id);
    expect(row).toMatchObject({ status: 200, endpoint: 'rerank', channelId: channels.cohere, estimated: true });
    expect(row.promptTokens).toBeGreaterThan(40);
    expect(row.costMicros).toBe(Math.ceil((row.promptTokens * PRICE.inputPrice) / 1_000_000));
  });

  it.each(['rerank-jina', 'rerank-vllm'])(
    '%s: Jina shape up and down; billed by the reported tokens',
    async (model) => {
      const documents = DOCUMENTS.map((text) => ({ text }));
      const res = await post({ model, query: QUERY, documents, top_n: 3 });
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(3);
      expect(res.body.results[0]).toMatchObject({ index: 1 });
      // return_documents not asked for: no documents in the answer.
      expect(res.body.results.every((r) => r.document === undefined)).toBe(true);
      expect(res.body.usage).toEqual({ total_tokens: 60 });
      const fake = model === 'rerank-jina' ? jina : vllm;
      expect(fake.last().path).toBe('/v1/rerank');
      expect(fake.last().body).toMatchObject({ query: QUERY, documents, top_n: 3 });
      const row = await logOf(gw.t, res.id);
      expect(row).toMatchObject({ status: 200, endpoint: 'rerank', promptTokens: 60, estimated: false });
      expect(row.costMicros).toBe(Math.ceil((60 * PRICE.inputPrice) / 1_000_000));
    },
  );

  it('bad input is a 400 in OpenAI shape naming the field, never sent upstream', async () => {
    const before = jina.requests.length;
    for (const [body, param] of [
      [{ model: 'rerank-jina', documents: DOCUMENTS }, 'query'],
      [{ model: 'rerank-jina', query: QUERY }, 'documents'],
      [{ model: 'rerank-jina', query: QUERY, documents: [] }, 'documents'],
      [{ model: 'rerank-jina', query: QUERY, documents: [1, 2] }, 'documents[0]'],
      [{ model: 'rerank-jina', query: QUERY, documents: DOCUMENTS, top_n: '2' }, 'top_n'],
    ] as const) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    expect(jina.requests.length).toBe(before);
  });

  it('a model only on channels without rerank is a 400; unknown models 404; no key 401', async () => {
    const noRerank = await post({ model: 'rerank-mock', query: QUERY, documents: DOCUMENTS });
    expect(noRerank.status).toBe(400);
    expect(String(noRerank.body.error?.message)).toContain('does not serve rerank');
    expect((await post({ model: 'nope', query: QUERY, documents: DOCUMENTS })).status).toBe(404);
    expect((await post({ model: 'rerank-jina', query: QUERY, documents: DOCUMENTS }, 'sk-wrong')).status).toBe(401);
  });

  it('a chat request routed to a rerank-only channel moves on to the next channel, not blaming it', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` },
      body: JSON.stringify({ model: 'chat-after-jina', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status).toBe(200);
    const row = await logOf(gw.t, res.headers.get('x-request-id'));
    expect(row.channelId).toBe(channels.mock);
    expect(row.attempts.map((a) => a.channelId)).toEqual([channels.jina]);
    const health = await gw.call<{ health: { lastError: string | null } }>(
      'GET',
      `/api/admin/channels/${channels.jina}`,
      {
        token: MASTER_KEY,
      },
    );
    expect(health.body.health.lastError).toBeNull();
  });
});
