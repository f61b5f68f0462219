/**
 * Extended thinking through AI Hub's /v1/messages when the channel is Anthropic (issue #15 items 4 and 5):
 * the official SDK, LangChain's ChatAnthropic and the Vercel AI SDK run a thinking + tool-use loop, and the
 * fake upstream records the follow-up request: it must carry the `thinking` parameter and the previous
 * assistant turn's thinking block (signature included) and redacted_thinking block unmodified. Usage must
 * sit where Anthropic puts it (input counts in message_start). A stream that breaks off keeps the input
 * and cache counts message_start reported and estimates only the output.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { ChatAnthropic } from '@langchain/anthropic';
import { AIMessageChunk, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import { start as startAnthropic } from '../../support/fakes/anthropic.js';
import { type FakeUpstream, fixtureEvents, fixtureJson } from '../../support/fakes/http.js';
import {
  addChannel,
  addModel,
  anthropicClient,
  expectedCost,
  type GatewayUnderTest,
  logOf,
  PRICES,
  postAndAbortAfterFirstChunk,
  postRaw,
  startGateway,
} from '../../support/gateway.js';
import { providerCase } from '../../support/providers.js';

const MODEL = 'claude-thinking';
/** Routed to the Anthropic channel first, then to an OpenAI channel. */
const MIXED_MODEL = 'claude-or-gpt';
/** Routed to the OpenAI channel only. */
const GPT_MODEL = 'gpt-behind-messages';
const UPSTREAM_MODEL = 'claude-sonnet-4-5';
const THINKING = { type: 'enabled' as const, budget_tokens: 1024 };
const QUESTION = 'What is the weather in Paris? Use get_weather.';
const TOOL_RESULT = '15°C and cloudy';

/** The first turn's answer: thinking (signed), redacted_thinking, text, tool_use; input 20 + cache read 8. */
const FIRST = fixtureJson<{ content: Array<Record<string, unknown>>; usage: Record<string, unknown> }>(
  'anthropic',
  'message-redacted-thinking-tool-use.json',
);
const FIRST_STREAM = fixtureEvents('anthropic', 'stream-thinking-redacted-tool-use.sse');
const [THINKING_BLOCK, REDACTED_BLOCK] = FIRST.content as [Record<string, unknown>, Record<string, unknown>];
/** The text answer of the follow-up turn (the fake's recorded `text` fixture). */
const SECOND_TEXT = 'Hello there!';
/** Prompt tokens as the gateway bills them: input + cache read + cache creation. */
const FIRST_USAGE = { prompt: 20 + 8, cached: 8, completion: 96, reasoning: 30 };

const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

type Block = Record<string, unknown>;
const messagesOf = (body: unknown) =>
  (body as { messages: Array<{ role: string; content: Block[] | string }> }).messages;
const thinkingBlocks = (content: Block[] | string | undefined): Block[] =>
  Array.isArray(content) ? content.filter((b) => b.type === 'thinking' || b.type === 'redacted_thinking') : [];

describe.each(ENGINES)('extended thinking through an Anthropic channel (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let fake: FakeUpstream;
  let anthropic: Anthropic;
  const openaiCase = providerCase('openai');
  let openaiFake: FakeUpstream | undefined;

  beforeAll(async () => {
    gw = await startGateway(engine);
    anthropic = anthropicClient(gw);
    fake = await startAnthropic();
    const channel = await addChannel(gw, {
      name: 'ch-thinking',
      type: 'anthropic',
      baseUrl: fake.baseUrl,
      keys: [fake.key],
    });
    await addModel(gw, { name: MODEL, ...PRICES, routes: [{ channelId: channel.id, upstreamModel: UPSTREAM_MODEL }] });
    openaiFake = await openaiCase.start();
    const openai = await addChannel(gw, openaiCase.channel(openaiFake, 'ch-thinking-openai'));
    await addModel(gw, {
      name: GPT_MODEL,
      ...PRICES,
      routes: [{ channelId: openai.id, upstreamModel: openaiCase.chatModel }],
    });
    await addModel(gw, {
      name: MIXED_MODEL,
      ...PRICES,
      routes: [
        { channelId: channel.id, upstreamModel: UPSTREAM_MODEL, priority: 2 },
        { channelId: openai.id, upstreamModel: openaiCase.chatModel, priority: 1 },
      ],
    });
  });
  afterAll(async () => {
    await fake?.close();
    await openaiFake?.close();
    await gw?.t.close();
  });
  beforeEach(() => {
    // Every test: the first request answers with the thinking + tool-use turn, later ones with plain text.
    fake.setScenario('text');
  });

  /** Checks the follow-up request the upstream got: thinking param, and the previous turn's blocks as sent. */
  function expectFollowUp(): void {
    const body = fake.last().body as Record<string, unknown>;
    expect(body.model).toBe(UPSTREAM_MODEL);
    expect(body.thinking).toEqual(THINKING);
    const assistant = messagesOf(body).find((m) => m.role === 'assistant');
    expect(thinkingBlocks(assistant?.content)).toEqual([THINKING_BLOCK, REDACTED_BLOCK]);
  }

  describe('official SDK', () => {
    const ask = (extra: Partial<MessageCreateParamsNonStreaming> = {}): MessageCreateParamsNonStreaming => ({
      model: MODEL,
      max_tokens: 2048,
      thinking: THINKING,
      tools: [WEATHER_TOOL],
      messages: [{ role: 'user', content: QUESTION }],
      ...extra,
    });
    const followUp = (content: Anthropic.ContentBlock[]): MessageCreateParamsNonStreaming => {
      const use = content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      return ask({
        messages: [
          { role: 'user', content: QUESTION },
          { role: 'assistant', content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use?.id ?? '', content: TOOL_RESULT }] },
        ],
      });
    };

    it('non-stream loop: the answer is Anthropic’s own (signature, redacted_thinking, usage) and goes back unmodified', async () => {
      fake.queueScenario({ name: 'text', body: FIRST });
      const { data: first, response } = await anthropic.messages.create(ask()).withResponse();
      expect(first.content).toEqual(FIRST.content);
      expect(first.model).toBe(MODEL);
      expect(first.usage).toEqual(FIRST.usage);
      const firstUpstream = fake.last().body as Record<string, unknown>;
      expect(firstUpstream.thinking).toEqual(THINKING);
      expect(firstUpstream.model).toBe(UPSTREAM_MODEL);
      const row = await logOf(gw.t, response.headers.get('x-request-id'));
      expect(row).toMatchObject({
        status: 200,
        promptTokens: FIRST_USAGE.prompt,
        cachedTokens: FIRST_USAGE.cached,
        completionTokens: FIRST_USAGE.completion,
        reasoningTokens: FIRST_USAGE.reasoning,
        estimated: false,
        costMicros: expectedCost(FIRST_USAGE),
      });

      const second = await anthropic.messages.create(followUp(first.content));
      expect(second.content).toMatchObject([{ type: 'text', text: SECOND_TEXT }]);
      expectFollowUp();
    });

    it('stream loop: signature_delta and redacted_thinking reach the client; message_start carries the input counts', async () => {
      fake.queueScenario({ name: 'text', replay: FIRST_STREAM });
      const first = await anthropic.messages.stream(ask()).finalMessage();
      expect(first.content).toEqual(FIRST.content.map((b) => (b.type === 'text' ? { type: 'text', text: b.text } : b)));
      expect(first.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 8, output_tokens: 96 });
      await anthropic.messages.stream(followUp(first.content)).finalMessage();
      expectFollowUp();

      fake.queueScenario({ name: 'text', replay: FIRST_STREAM });
      const raw = await postRaw(
        `${gw.url}/v1/messages`,
        { ...ask(), stream: true },
        { 'x-api-key': gw.key, 'anthropic-version': '2023-06-01' },
      );
      const start = JSON.parse(raw.events[0]?.data ?? '{}') as { message: { usage: Record<string, unknown> } };
      expect(raw.events[0]?.event).toBe('message_start');
      expect(start.message.usage).toMatchObject({
        input_tokens: 20,
        cache_read_input_tokens: 8,
        cache_creation_input_tokens: 0,
      });
      const deltas = raw.events.filter((e) => e.data.includes('"signature_delta"'));
      expect(deltas.map((e) => (JSON.parse(e.data) as { delta: { signature: string } }).delta.signature)).toEqual([
        THINKING_BLOCK.signature,
      ]);
      const row = await logOf(gw.t, raw.requestId);
      expect(row).toMatchObject({
        status: 200,
        stream: true,
        promptTokens: FIRST_USAGE.prompt,
        cachedTokens: FIRST_USAGE.cached,
        completionTokens: FIRST_USAGE.completion,
        estimated: false,
      });
    });

    it('a client that leaves after message_start and some deltas: the row keeps input 20 + cache read 8, the output is estimated', async () => {
      fake.queueScenario({ name: 'text', replay: FIRST_STREAM, chunkDelayMs: 40 });
      const { requestId } = await postAndAbortAfterFirstChunk(
        `${gw.url}/v1/messages`,
        { ...ask(), stream: true },
        { 'x-api-key': gw.key, 'anthropic-version': '2023-06-01' },
      );
      const row = await logOf(gw.t, requestId);
      expect(row).toMatchObject({
        status: 499,
        errorCode: 'client_closed',
        promptTokens: 28,
        cachedTokens: 8,
        estimated: true,
      });
      // The thinking streamed before the text is counted; far less than the 96 the whole answer takes.
      expect(row.completionTokens).toBeGreaterThan(0);
      expect(row.completionTokens).toBeLessThan(96);
      expect(row.costMicros).toBe(expectedCost({ prompt: 28, cached: 8, completion: row.completionTokens }));
    });

    it('an upstream connection cut mid-stream: error event for the client, the row keeps message_start’s input', async () => {
      fake.setScenario({ name: 'reset_mid_stream', chunkDelayMs: 5 });
      const res = await postRaw(
        `${gw.url}/v1/messages`,
        { ...ask({ thinking: undefined, tools: undefined }), stream: true },
        { 'x-api-key': gw.key, 'anthropic-version': '2023-06-01' },
      );
      expect(res.events[0]?.event).toBe('message_start');
      expect(res.events.at(-1)?.event).toBe('error');
      const row = await logOf(gw.t, res.requestId);
      // The fake's long_text answer reports input_tokens 12 in message_start.
      expect(row).toMatchObject({ status: 502, errorCode: 'upstream_error', promptTokens: 12, estimated: true });
      expect(row.completionTokens).toBeGreaterThan(0);
    });
  });

  it('failover from the Anthropic channel to an OpenAI channel: the next attempt is translated', async () => {
    fake.setScenario('server_error');
    openaiFake?.setScenario('text');
    const before = fake.requests.length;
    const message = await anthropic.messages.create({
      model: MIXED_MODEL,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    expect(fake.requests.length).toBe(before + 1);
    expect(openaiFake?.last().path).toBe('/v1/chat/completions');
    expect(message).toMatchObject({ model: MIXED_MODEL, stop_reason: 'end_turn' });
    expect(message.content).toEqual([{ type: 'text', text: openaiCase.answers?.text.content }]);
  });

  it('a server tool (web search) passes through to an Anthropic channel; a translated channel refuses it with 400', async () => {
    const body = {
      max_tokens: 256,
      messages: [{ role: 'user' as const, content: 'Search the news.' }],
      tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 1 }],
    };
    const message = await anthropic.messages.create({ model: MODEL, ...body });
    expect(message.content).toMatchObject([{ type: 'text', text: SECOND_TEXT }]);
    expect((fake.last().body as Record<string, unknown>).tools).toEqual(body.tools);

    const refused = await postRaw(
      `${gw.url}/v1/messages`,
      { model: GPT_MODEL, ...body },
      { 'x-api-key': gw.key, 'anthropic-version': '2023-06-01' },
    );
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text)).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('web_search') },
    });
  });

  describe('LangChain ChatAnthropic', () => {
    const weather = { ...WEATHER_TOOL };
    const llm = () =>
      new ChatAnthropic({
        model: MODEL,
        apiKey: gw.key,
        anthropicApiUrl: gw.url,
        maxTokens: 2048,
        maxRetries: 0,
        thinking: THINKING,
      }).bindTools([weather]);

    it('invoke: usage_metadata has the input tokens; the thinking turn goes back unmodified', async () => {
      fake.queueScenario({ name: 'text', body: FIRST });
      const question = new HumanMessage(QUESTION);
      const ai = await llm().invoke([question]);
      expect(ai.usage_metadata).toMatchObject({ input_tokens: 28, output_tokens: 96 });
      const call = ai.tool_calls?.[0];
      expect(call).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
      await llm().invoke([question, ai, new ToolMessage({ content: TOOL_RESULT, tool_call_id: call?.id ?? '' })]);
      expectFollowUp();
    });

    it('stream: usage_metadata input tokens come from message_start (not 0)', async () => {
      fake.queueScenario({ name: 'text', replay: FIRST_STREAM });
      const question = new HumanMessage(QUESTION);
      let ai: AIMessageChunk | undefined;
      for await (const chunk of await llm().stream([question])) ai = ai ? ai.concat(chunk) : chunk;
      // LangChain adds message_start's placeholder output_tokens (1) to message_delta's 96, as with Anthropic itself.
      expect(ai?.usage_metadata).toMatchObject({ input_tokens: 28, output_tokens: 1 + 96 });
      const call = ai?.tool_calls?.[0];
      expect(call).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
      await llm().invoke([
        question,
        ai ?? new AIMessageChunk(''),
        new ToolMessage({ content: TOOL_RESULT, tool_call_id: call?.id ?? '' }),
      ]);
      expectFollowUp();
    });
  });

  describe('Vercel AI SDK (@ai-sdk/anthropic)', () => {
    const provider = () => createAnthropic({ baseURL: `${gw.url}/v1`, apiKey: gw.key });
    const tools = {
      get_weather: tool({
        description: 'Current weather for a city',
        inputSchema: jsonSchema<{ city: string }>({
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        }),
        execute: async () => TOOL_RESULT,
      }),
    };
    const options = {
      prompt: QUESTION,
      tools,
      stopWhen: stepCountIs(2),
      maxOutputTokens: 2048,
      maxRetries: 0,
      providerOptions: { anthropic: { thinking: { type: 'enabled' as const, budgetTokens: 1024 } } },
    };

    it('generateText: reasoning, text and usage; the tool loop sends the signed thinking back', async () => {
      fake.queueScenario({ name: 'text', body: FIRST });
      const result = await generateText({ model: provider()(MODEL), ...options });
      const [first] = result.steps;
      expect(first?.reasoningText).toBe(THINKING_BLOCK.thinking);
      expect(first?.usage).toMatchObject({ inputTokens: 28, outputTokens: 96 });
      expect(first?.usage.inputTokenDetails).toMatchObject({ cacheReadTokens: 8, noCacheTokens: 20 });
      expect(result.text).toBe(SECOND_TEXT);
      expectFollowUp();
    });

    it('streamText: reasoning, text and usage; the tool loop sends the signed thinking back', async () => {
      fake.queueScenario({ name: 'text', replay: FIRST_STREAM });
      const result = streamText({ model: provider()(MODEL), ...options });
      const steps = await result.steps;
      expect(steps[0]?.reasoningText).toBe(THINKING_BLOCK.thinking);
      expect(steps[0]?.usage).toMatchObject({ inputTokens: 28, outputTokens: 96 });
      expect(await result.text).toBe(SECOND_TEXT);
      expectFollowUp();
    });
  });
});
