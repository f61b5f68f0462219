/**
 * Usage records and billing on the edges of a stream: a client that disconnects (the upstream request
 * is aborted, what was produced is billed as an estimate), an upstream that fails after some output
 * (the client gets a final error event, the output is billed), a connection cut mid-stream, and an
 * upstream that never reports usage (estimated with gpt-tokenizer).
 *
 * Also hosts logs.suite.ts (the request-log API) and durability.suite.ts (no record lost on shutdown).
 */
import { request as httpRequest } from 'node:http';
import { encode } from 'gpt-tokenizer';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import {
  addChannel,
  addModel,
  eventually,
  expectedCost,
  type GatewayUnderTest,
  logOf,
  openaiClient,
  PRICES,
  postAndAbortAfterFirstChunk,
  postRaw,
  startGateway,
} from '../support/gateway.js';
import { PROVIDER_CASES, type ProviderCase, providerCase } from '../support/providers.js';
import { durabilitySuite } from './durability.suite.js';
import { logsSuite } from './logs.suite.js';

const STREAMING_CASES = PROVIDER_CASES.filter((c) => c.type !== 'azure-openai');
const model = (c: ProviderCase) => `usage-${c.type}`;
const QUESTION = 'Tell me a long story about the sea.';

/** The gateway's estimate of a prompt: tokenizer count of each message's text plus 4 for its framing. */
const promptEstimate = (...texts: string[]) => texts.reduce((sum, text) => sum + encode(text).length + 4, 0);

describe.each(ENGINES)('usage records and billing (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let openai: OpenAI;
  const fakes = new Map<string, FakeUpstream | undefined>();
  const channelIds = new Map<string, string>();
  const headers = () => ({ authorization: `Bearer ${gw.key}` });

  beforeAll(async () => {
    gw = await startGateway(engine);
    openai = openaiClient(gw);
    for (const c of PROVIDER_CASES) {
      const fake = await c.start();
      fakes.set(c.type, fake);
      // The mock streams slowly too, so a client can leave in the middle.
      const body =
        c.type === 'mock'
          ? { name: 'usage-mock', type: 'mock', options: { provider: { chunkDelayMs: '20' } } }
          : c.channel(fake, `usage-ch-${c.type}`);
      const channel = await addChannel(gw, body);
      channelIds.set(c.type, channel.id);
      await addModel(gw, {
        name: model(c),
        ...PRICES,
        routes: [{ channelId: channel.id, upstreamModel: c.chatModel }],
      });
    }
  });
  afterAll(async () => {
    for (const fake of fakes.values()) await fake?.close();
    await gw?.t.close();
  });

  describe.each(STREAMING_CASES)('$type channel', (c) => {
    const fake = () => fakes.get(c.type);
    const url = () => `${gw.url}/v1/chat/completions`;
    const streamBody = { model: model(c), stream: true, messages: [{ role: 'user', content: QUESTION }] };

    it('a client that disconnects mid-stream aborts the upstream request; the row is 499 client_closed with the output estimated', async () => {
      fake()?.setScenario({ name: 'long_text', chunkDelayMs: 20, omitUsage: true });
      const { requestId, firstText } = await postAndAbortAfterFirstChunk(url(), streamBody, headers());
      expect(firstText).toContain('data:');
      const f = fake();
      if (f) {
        const upstream = f.last();
        await upstream.finished;
        expect(upstream.aborted).toBe(true);
      }
      const row = await logOf(gw.t, requestId);
      expect(row).toMatchObject({
        status: 499,
        errorCode: 'client_closed',
        channelId: channelIds.get(c.type),
        estimated: true,
      });
      expect(row.completionTokens).toBeGreaterThan(0);
      // Far less than the whole answer (200 words) was produced before the client left.
      expect(row.completionTokens).toBeLessThan(200);
      // Anthropic reports the input in message_start, before any output: that count is kept, not estimated.
      expect(row.promptTokens).toBe(
        c.type === 'anthropic' ? (c.answers?.long_text.usage.prompt ?? -1) : promptEstimate(QUESTION),
      );
      expect(row.costMicros).toBe(
        expectedCost({ prompt: row.promptTokens, completion: row.completionTokens, cached: 0 }),
      );
    });

    it.skipIf(c.type === 'mock')(
      'an upstream error after some output: the client gets the output then a final data: {"error":…}; the output is billed',
      async () => {
        fake()?.setScenario({ name: 'stream_error', chunkDelayMs: 30 });
        const res = await postRaw(url(), streamBody, headers());
        expect(res.status).toBe(200);
        const content = res.payloads
          .map((p) => (p.choices as Array<{ delta?: { content?: string } }> | undefined)?.[0]?.delta?.content ?? '')
          .join('');
        expect(content).toBe(c.streamErrorPartial);
        const last = res.events[res.events.length - 1];
        expect(last?.data).not.toBe('[DONE]');
        const error = JSON.parse(last?.data ?? '{}') as { error?: { message: string; code: string; type: string } };
        expect(error.error).toMatchObject({ code: 'upstream_error', type: 'api_error' });
        expect(res.events.some((e) => e.data === '[DONE]')).toBe(false);

        const row = await logOf(gw.t, res.requestId);
        expect(row).toMatchObject({
          status: 502,
          errorCode: 'upstream_error',
          estimated: true,
          completionTokens: encode(c.streamErrorPartial ?? '').length,
        });
        expect(row.costMicros).toBeGreaterThan(0);
      },
    );

    it.skipIf(c.type === 'mock')(
      'the OpenAI SDK raises on the final error event after yielding the partial output',
      async () => {
        fake()?.setScenario({ name: 'stream_error', chunkDelayMs: 30 });
        let text = '';
        let failure: unknown;
        try {
          for await (const chunk of await openai.chat.completions.create({
            model: model(c),
            stream: true,
            messages: [{ role: 'user', content: QUESTION }],
          })) {
            text += chunk.choices[0]?.delta.content ?? '';
          }
        } catch (error) {
          failure = error;
        }
        expect(text).toBe(c.streamErrorPartial);
        expect(failure).toBeInstanceOf(OpenAI.APIError);
      },
    );

    it.skipIf(c.type === 'mock')(
      'a connection cut mid-stream: the client gets the output so far and an error event; the row is 502 with the output estimated',
      async () => {
        fake()?.setScenario({ name: 'reset_mid_stream', chunkDelayMs: 10 });
        const res = await postRaw(url(), streamBody, headers());
        expect(res.status).toBe(200);
        const last = JSON.parse(res.events[res.events.length - 1]?.data ?? '{}') as { error?: { code: string } };
        expect(last.error?.code).toBe('upstream_error');
        const row = await logOf(gw.t, res.requestId);
        expect(row).toMatchObject({ status: 502, errorCode: 'upstream_error', estimated: true });
        expect(row.completionTokens).toBeGreaterThan(0);
      },
    );

    it.skipIf(c.type === 'mock' || c.type === 'anthropic')(
      'an upstream that never reports usage: tokens estimated with gpt-tokenizer, estimated = true',
      async () => {
        fake()?.setScenario({ name: 'text', omitUsage: true });
        const answer = c.answers?.text.content ?? '';
        const res = await postRaw(url(), { ...streamBody, stream_options: { include_usage: true } }, headers());
        expect(res.status).toBe(200);
        const streamRow = await logOf(gw.t, res.requestId);
        const { data, request_id } = await openai.chat.completions
          .create({ model: model(c), messages: [{ role: 'user', content: QUESTION }] })
          .withResponse();
        expect(data.usage).toBeUndefined();
        const row = await logOf(gw.t, request_id);
        for (const r of [streamRow, row]) {
          expect(r).toMatchObject({
            status: 200,
            estimated: true,
            promptTokens: promptEstimate(QUESTION),
            completionTokens: encode(answer).length,
            cachedTokens: 0,
          });
          expect(r.costMicros).toBe(
            expectedCost({ prompt: r.promptTokens, completion: r.completionTokens, cached: 0 }),
          );
        }
      },
    );
  });

  it('/v1/messages: an upstream error after some output ends the Anthropic stream with event: error', async () => {
    const c = providerCase('openai');
    fakes.get('openai')?.setScenario({ name: 'stream_error', chunkDelayMs: 30 });
    const res = await postRaw(
      `${gw.url}/v1/messages`,
      { model: model(c), max_tokens: 256, stream: true, messages: [{ role: 'user', content: QUESTION }] },
      { 'x-api-key': gw.key, 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(200);
    const names = res.events.map((e) => e.event);
    expect(names[0]).toBe('message_start');
    expect(names[names.length - 1]).toBe('error');
    expect(names).not.toContain('message_stop');
    expect(JSON.parse(res.events[res.events.length - 1]?.data ?? '{}')).toMatchObject({
      type: 'error',
      error: { type: 'api_error' },
    });
    const text = res.events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (JSON.parse(e.data) as { delta: { text?: string } }).delta.text ?? '')
      .join('');
    expect(text).toBe(c.streamErrorPartial);
    const row = await logOf(gw.t, res.requestId);
    expect(row).toMatchObject({ endpoint: 'messages', status: 502, errorCode: 'upstream_error' });
    expect(row.completionTokens).toBeGreaterThan(0);
  });

  it('a non-stream request the client abandons is recorded as 499 and the upstream request is aborted', async () => {
    const f = fakes.get('openai') as FakeUpstream;
    f.setScenario({ name: 'text', firstByteDelayMs: 2_000 });
    const before = f.requests.length;
    const req = httpRequest(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers() },
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ model: model(providerCase('openai')), messages: [{ role: 'user', content: QUESTION }] }));
    await eventually(() => f.requests.length > before, 3_000, 'the upstream request');
    // The client goes away while the upstream is still thinking.
    req.destroy();
    const upstream = f.last();
    await upstream.finished;
    expect(upstream.aborted).toBe(true);
    const row = await eventually(
      async () => {
        await gw.t.services.recorder.flush();
        const [latest] = await gw.t.services.logs.list({
          orgId: 'org_default',
          limit: 1,
          model: model(providerCase('openai')),
        });
        return latest?.status === 499 ? latest : undefined;
      },
      5_000,
      'the 499 row',
    );
    expect(row).toMatchObject({ status: 499, errorCode: 'client_closed', completionTokens: 0, costMicros: 0 });
    f.setScenario('text');
  });
});

logsSuite();
durabilitySuite();
