/**
 * POST /v1/completions (legacy) through the official `openai` SDK, stream and non-stream: passed through to
 * channels with a completions API for models with the `completions` capability, translated to chat for
 * every other channel type (against the fakes of each provider); usage and cost in the request log.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import { FAKE_COMPLETION_TEXT, FAKE_COMPLETION_USAGE, startSurfaceFake } from '../../support/fakes/surface.js';
import {
  addChannel,
  addModel,
  expectedCost,
  type GatewayUnderTest,
  logOf,
  openaiClient,
  PRICES,
  startGateway,
} from '../../support/gateway.js';
import { expectedAnswer, PROVIDER_CASES } from '../../support/providers.js';

const PROMPT = 'Say this is a test';

describe.each(ENGINES)('POST /v1/completions (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let openai: OpenAI;
  let native: FakeUpstream;
  let azure: FakeUpstream;
  const fakes = new Map<string, FakeUpstream | undefined>();

  beforeAll(async () => {
    gw = await startGateway(engine);
    openai = openaiClient(gw);
    native = await startSurfaceFake('openai');
    azure = await startSurfaceFake('azure');
    const o = await addChannel(gw, { name: 'cmp-openai', type: 'openai', baseUrl: native.baseUrl, keys: [native.key] });
    const a = await addChannel(gw, {
      name: 'cmp-azure',
      type: 'azure-openai',
      baseUrl: azure.baseUrl,
      keys: [azure.key],
      options: { provider: { apiVersion: '2024-10-21' } },
    });
    await addModel(gw, {
      name: 'instruct',
      ...PRICES,
      capabilities: ['completions'],
      routes: [{ channelId: o.id, upstreamModel: 'gpt-3.5-turbo-instruct' }],
    });
    await addModel(gw, {
      name: 'instruct-azure',
      ...PRICES,
      capabilities: ['completions'],
      routes: [{ channelId: a.id, upstreamModel: 'instruct-deploy' }],
    });
    for (const c of PROVIDER_CASES) {
      const fake = await c.start();
      fakes.set(c.type, fake);
      const channel = await addChannel(gw, c.channel(fake, `cmp-chat-${c.type}`));
      await addModel(gw, {
        name: `chat-${c.type}`,
        ...PRICES,
        routes: [{ channelId: channel.id, upstreamModel: c.chatModel }],
      });
    }
  });
  afterAll(async () => {
    await native?.close();
    await azure?.close();
    for (const fake of fakes.values()) await fake?.close();
    await gw?.t.close();
  });

  describe('native: channels with a completions API, models with the completions capability', () => {
    it('non-stream: the upstream’s text_completion as it came; usage and cost logged', async () => {
      const { data, response } = await openai.completions
        .create({ model: 'instruct', prompt: PROMPT, max_tokens: 7, temperature: 0 })
        .withResponse();
      expect(data.object).toBe('text_completion');
      expect(data.choices[0]?.text).toBe(`\n\n${FAKE_COMPLETION_TEXT}`);
      expect(data.usage).toEqual(FAKE_COMPLETION_USAGE);
      const sent = native.last();
      expect(sent.path).toBe('/v1/completions');
      expect(sent.body).toEqual({ model: 'gpt-3.5-turbo-instruct', prompt: PROMPT, max_tokens: 7, temperature: 0 });
      const usage = { prompt: 5, completion: 7, cached: 0 };
      const row = await logOf(gw.t, response.headers.get('x-request-id'));
      expect(row).toMatchObject({
        status: 200,
        endpoint: 'completions',
        stream: false,
        promptTokens: 5,
        completionTokens: 7,
        estimated: false,
        costMicros: expectedCost(usage),
      });
    });

    it('stream: the chunks as they came; the usage chunk only when asked for; usage logged either way', async () => {
      const stream = await openai.completions.create({ model: 'instruct', prompt: PROMPT, stream: true });
      let text = '';
      let usageSeen = false;
      for await (const chunk of stream) {
        expect(chunk.object).toBe('text_completion');
        text += chunk.choices[0]?.text ?? '';
        if (chunk.usage) usageSeen = true;
      }
      expect(text).toBe(`\n\n${FAKE_COMPLETION_TEXT}`);
      expect(usageSeen).toBe(false);
      // The hub asked for usage on the client's behalf.
      expect(native.last().body).toMatchObject({ stream: true, stream_options: { include_usage: true } });

      const { data: withUsage, response } = await openai.completions
        .create({ model: 'instruct', prompt: PROMPT, stream: true, stream_options: { include_usage: true } })
        .withResponse();
      const chunks = [];
      for await (const chunk of withUsage) chunks.push(chunk);
      expect(chunks.at(-1)?.usage).toEqual(FAKE_COMPLETION_USAGE);
      const row = await logOf(gw.t, response.headers.get('x-request-id'));
      expect(row).toMatchObject({
        status: 200,
        endpoint: 'completions',
        stream: true,
        promptTokens: 5,
        completionTokens: 7,
      });
    });

    it('Azure: the deployment’s /completions with api-version and api-key', async () => {
      const data = await openai.completions.create({ model: 'instruct-azure', prompt: PROMPT });
      expect(data.choices[0]?.text).toBe(`\n\n${FAKE_COMPLETION_TEXT}`);
      const sent = azure.last();
      expect(sent.path).toBe('/openai/deployments/instruct-deploy/completions');
      expect(sent.query.get('api-version')).toBe('2024-10-21');
    });
  });

  describe.each(PROVIDER_CASES)('translated to chat: $type channel', (c) => {
    const model = `chat-${c.type}`;
    const chat = { model: c.chatModel, messages: [{ role: 'user' as const, content: PROMPT }], max_tokens: 200 };

    it('non-stream: a text_completion under the requested model, with the chat answer’s text and usage', async () => {
      fakes.get(c.type)?.setScenario('text');
      const { data, response } = await openai.completions
        .create({ model, prompt: PROMPT, echo: true, max_tokens: 200 })
        .withResponse();
      const want = expectedAnswer(c, 'text', chat);
      expect(data).toMatchObject({ object: 'text_completion', model });
      expect(data.id).toMatch(/^cmpl-/);
      expect(data.choices).toEqual([
        { text: `${PROMPT}${want.content}`, index: 0, logprobs: null, finish_reason: 'stop' },
      ]);
      expect(data.usage?.completion_tokens).toBe(want.usage.completion);
      const fake = fakes.get(c.type);
      if (fake) c.expectChatRequest(fake.last(), fake, { stream: false, model: c.chatModel });
      const row = await logOf(gw.t, response.headers.get('x-request-id'));
      expect(row).toMatchObject({
        status: 200,
        endpoint: 'completions',
        promptTokens: want.usage.prompt,
        completionTokens: want.usage.completion,
        costMicros: expectedCost(want.usage),
      });
    });

    it('stream: text_completion chunks with the same text, usage on request', async () => {
      fakes.get(c.type)?.setScenario('text');
      const stream = await openai.completions.create({
        model,
        prompt: PROMPT,
        max_tokens: 200,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let last: OpenAI.Completion | undefined;
      for await (const chunk of stream) {
        expect(chunk.object).toBe('text_completion');
        expect(chunk.model).toBe(model);
        text += chunk.choices[0]?.text ?? '';
        last = chunk;
      }
      const want = expectedAnswer(c, 'text', chat);
      expect(text).toBe(want.content);
      expect(last?.usage?.completion_tokens).toBe(want.usage.completion);
    });
  });

  it('what chat cannot express is a 400 for translated channels, never sent', async () => {
    const fake = fakes.get('openai');
    const before = fake?.requests.length ?? 0;
    for (const body of [
      { model: 'chat-openai', prompt: ['one', 'two'] },
      { model: 'chat-openai', prompt: 'x', suffix: 'y' },
    ]) {
      const error = await openai.completions.create(body).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    }
    expect(fake?.requests.length).toBe(before);
  });

  it('bad input is a 400 in OpenAI shape naming the field; unknown models 404; no key 401', async () => {
    for (const [body, param] of [
      [{ prompt: 'x' }, 'model'],
      [{ model: 'instruct', prompt: 5 }, 'prompt'],
      [{ model: 'instruct', prompt: 'x', max_tokens: 'ten' }, 'max_tokens'],
      [{ model: 'instruct', prompt: 'x', stream: 'yes' }, 'stream'],
    ] as const) {
      const res = await fetch(`${gw.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', param } });
    }
    const unknown = await openai.completions.create({ model: 'nope', prompt: 'x' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    const noKey = await openaiClient(gw, 'sk-bad')
      .completions.create({ model: 'instruct', prompt: 'x' })
      .catch((e: unknown) => e);
    expect(noKey).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
