/**
 * The official `openai` SDK as a client of AI Hub's /v1, over every channel type: each channel points at
 * a fake upstream that speaks its provider's wire format (or is the in-process mock). Checks what the
 * client gets back, what the upstream received, and what was recorded.
 */
import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockEmbedding } from '../../../src/providers/mock/index.js';
import type { ChatRequest } from '../../../src/providers/types.js';
import { ENGINES } from '../../support/databases.js';
import { fakeGeminiEmbedding } from '../../support/fakes/gemini.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import { fakeEmbeddingVector } from '../../support/fakes/openai.js';
import {
  addChannel,
  addModel,
  expectedCost,
  type GatewayUnderTest,
  logOf,
  openaiClient,
  PNG_DATA_URL,
  PRICES,
  startGateway,
  WEATHER_TOOL,
} from '../../support/gateway.js';
import {
  type AnswerScenario,
  expectedAnswer,
  PROVIDER_CASES,
  type ProviderCase,
  TOOL_RESULT_TEXT,
  TOOL_TURN_MESSAGES,
} from '../../support/providers.js';

type Delta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null };
type Message = OpenAI.Chat.Completions.ChatCompletionMessage & { reasoning_content?: string | null };

const chatModel = (c: ProviderCase) => `chat-${c.type}`;
const embedModel = (c: ProviderCase) => `embed-${c.type}`;

/** Reassemble a streamed answer: text, reasoning, tool calls by index, finish reason, usage chunks. */
function assemble(chunks: ChatCompletionChunk[]) {
  let content = '';
  let reasoning = '';
  let finish: string | null = null;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  const usageChunks = chunks.filter((chunk) => chunk.usage);
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      const delta = choice.delta as Delta;
      if (delta.content) content += delta.content;
      if (delta.reasoning_content) reasoning += delta.reasoning_content;
      for (const fragment of delta.tool_calls ?? []) {
        const call = calls.get(fragment.index) ?? { id: '', name: '', arguments: '' };
        if (fragment.id) call.id = fragment.id;
        if (fragment.function?.name) call.name += fragment.function.name;
        if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
        calls.set(fragment.index, call);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return {
    content,
    reasoning,
    finish,
    toolCalls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call),
    usageChunks,
  };
}

describe.each(ENGINES)('OpenAI SDK through AI Hub (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let openai: OpenAI;
  const fakes = new Map<string, FakeUpstream | undefined>();
  const channelIds = new Map<string, string>();

  beforeAll(async () => {
    gw = await startGateway(engine);
    openai = openaiClient(gw);
    for (const c of PROVIDER_CASES) {
      const fake = await c.start();
      fakes.set(c.type, fake);
      const channel = await addChannel(gw, c.channel(fake, `ch-${c.type}`));
      channelIds.set(c.type, channel.id);
      await addModel(gw, {
        name: chatModel(c),
        ...PRICES,
        routes: [{ channelId: channel.id, upstreamModel: c.chatModel }],
      });
      if (c.embeddingModel)
        await addModel(gw, {
          name: embedModel(c),
          ...PRICES,
          routes: [{ channelId: channel.id, upstreamModel: c.embeddingModel }],
        });
    }
  });
  afterAll(async () => {
    for (const fake of fakes.values()) await fake?.close();
    await gw?.t.close();
  });

  describe.each(PROVIDER_CASES)('$type channel', (c) => {
    const fake = () => fakes.get(c.type);
    const use = (scenario: Parameters<FakeUpstream['setScenario']>[0]) => fake()?.setScenario(scenario);
    const expected = (scenario: AnswerScenario, request: ChatRequest) => expectedAnswer(c, scenario, request);
    const ask = (
      extra: Partial<ChatCompletionCreateParamsNonStreaming> = {},
    ): ChatCompletionCreateParamsNonStreaming => ({
      model: chatModel(c),
      messages: [{ role: 'user', content: 'What is the weather in San Francisco?' }],
      ...extra,
    });
    const toolAsk = () =>
      ask({
        messages: [{ role: 'user', content: "What's the weather like in Paris today? Use get_weather." }],
        tools: [WEATHER_TOOL],
        tool_choice: 'auto',
      });

    it('non-stream text: the upstream answer, its usage, a request log row priced from the model', async () => {
      use('text');
      const request = ask();
      const { data: completion, request_id } = await openai.chat.completions.create(request).withResponse();
      const want = expected('text', request as ChatRequest);
      expect(completion.object).toBe('chat.completion');
      expect(completion.choices).toHaveLength(1);
      expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: want.content });
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.usage).toMatchObject({
        prompt_tokens: want.usage.prompt,
        completion_tokens: want.usage.completion,
        total_tokens: want.usage.prompt + want.usage.completion,
      });
      const f = fake();
      if (f) c.expectChatRequest(f.last(), f, { stream: false, model: c.chatModel });

      const row = await logOf(gw.t, request_id);
      expect(row).toMatchObject({
        status: 200,
        errorCode: null,
        model: chatModel(c),
        upstreamModel: c.chatModel,
        channelId: channelIds.get(c.type),
        keyId: gw.keyId,
        userId: gw.admin.userId,
        endpoint: 'chat',
        stream: false,
        promptTokens: want.usage.prompt,
        completionTokens: want.usage.completion,
        cachedTokens: want.usage.cached,
        reasoningTokens: want.usage.reasoning,
        estimated: false,
        costMicros: expectedCost(want.usage),
        attempts: [],
      });
    });

    it('stream text: deltas rebuild the answer, no usage chunk unless asked, usage still recorded', async () => {
      use('text');
      const request = ask();
      const { data: stream, request_id } = await openai.chat.completions
        .create({ ...request, stream: true })
        .withResponse();
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const want = expected('text', request as ChatRequest);
      const got = assemble(chunks);
      expect(got.content).toBe(want.content);
      expect(got.finish).toBe('stop');
      expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
      // Every chunk has choices: no usage chunk for a client that did not ask, no Azure annotation chunk.
      expect(chunks.filter((chunk) => chunk.choices.length === 0)).toEqual([]);
      const f = fake();
      if (f) c.expectChatRequest(f.last(), f, { stream: true, model: c.chatModel });

      const row = await logOf(gw.t, request_id);
      expect(row).toMatchObject({
        status: 200,
        stream: true,
        promptTokens: want.usage.prompt,
        completionTokens: want.usage.completion,
        estimated: false,
        costMicros: expectedCost(want.usage),
      });
      expect(row.ttftMs).not.toBeNull();
    });

    it('stream text with include_usage: one final usage chunk (choices: []) with the upstream counts', async () => {
      use('text');
      const request = ask();
      const stream = await openai.chat.completions.create({
        ...request,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const want = expected('text', request as ChatRequest);
      const got = assemble(chunks);
      expect(got.content).toBe(want.content);
      // One chunk carries the usage, the last one: `choices: []` as OpenAI sends it (DeepSeek puts it on
      // its finish chunk, which is forwarded as DeepSeek sent it).
      expect(got.usageChunks).toHaveLength(1);
      expect(chunks[chunks.length - 1]).toBe(got.usageChunks[0]);
      if (c.type !== 'openai-compatible') expect(got.usageChunks[0]?.choices).toEqual([]);
      expect(got.usageChunks[0]?.usage).toMatchObject({
        prompt_tokens: want.usage.prompt,
        completion_tokens: want.usage.completion,
      });
    });

    it('the SDK stream helper assembles the same completion (finalChatCompletion)', async () => {
      use('text');
      const request = ask();
      const completion = await openai.chat.completions.stream({ ...request, stream: true }).finalChatCompletion();
      const want = expected('text', request as ChatRequest);
      expect(completion.choices[0]?.message.content).toBe(want.content);
      expect(completion.choices[0]?.finish_reason).toBe('stop');
    });

    it('tool call (non-stream): name and JSON arguments intact, finish_reason tool_calls, tools sent upstream', async () => {
      use('tool_call');
      const request = toolAsk();
      const completion = await openai.chat.completions.create(request);
      const want = expected('tool_call', request as ChatRequest);
      const message = completion.choices[0]?.message;
      expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
      expect(message?.tool_calls).toHaveLength(want.toolCalls.length);
      message?.tool_calls?.forEach((call, i) => {
        expect(call.type).toBe('function');
        expect(call.id).not.toBe('');
        if (call.type !== 'function') return;
        expect(call.function.name).toBe(want.toolCalls[i]?.name);
        expect(JSON.parse(call.function.arguments)).toEqual(JSON.parse(want.toolCalls[i]?.arguments ?? 'null'));
      });
      const f = fake();
      if (f) c.expectToolsUpstream(f.last().body);
    });

    it('tool call (stream): deltas reassembled by index give the same calls as the non-stream answer', async () => {
      use('tool_call');
      const request = toolAsk();
      const whole = await openai.chat.completions.create(request);
      const stream = await openai.chat.completions.create({ ...request, stream: true });
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const got = assemble(chunks);
      expect(got.finish).toBe('tool_calls');
      const calls = (whole.choices[0]?.message.tool_calls ?? []).flatMap((call) =>
        call.type === 'function' ? [call] : [],
      );
      expect(got.toolCalls.map((call) => call.name)).toEqual(calls.map((call) => call.function.name));
      expect(got.toolCalls.map((call) => JSON.parse(call.arguments))).toEqual(
        calls.map((call) => JSON.parse(call.function.arguments)),
      );
      for (const call of got.toolCalls) expect(call.id).not.toBe('');
    });

    it('multi-turn: the assistant tool call and the tool result reach the upstream in its own format', async () => {
      use('text');
      const request = ask({ messages: TOOL_TURN_MESSAGES, tools: [WEATHER_TOOL] });
      const completion = await openai.chat.completions.create(request);
      const want = expected('text', request as ChatRequest);
      expect(completion.choices[0]?.message.content).toBe(want.content);
      if (c.type === 'mock')
        expect(completion.choices[0]?.message.content).toContain(`The tool returned: ${TOOL_RESULT_TEXT}`);
      const f = fake();
      if (f) c.expectToolResultUpstream(f.last().body);
    });

    it('an image content part reaches the upstream in its format', async () => {
      use('text');
      const request = ask({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image_url', image_url: { url: PNG_DATA_URL } },
            ],
          },
        ],
      });
      const completion = await openai.chat.completions.create(request);
      expect(completion.choices[0]?.message.content).toBe(expected('text', request as ChatRequest).content);
      const f = fake();
      if (f) c.expectImageUpstream(f.last().body);
    });

    it('reasoning (non-stream): reasoning text as message.reasoning_content, reasoning tokens in usage and the log', async () => {
      use('reasoning');
      const request = ask({ messages: [{ role: 'user', content: 'What is 17 × 23?' }], reasoning_effort: 'low' });
      const { data: completion, request_id } = await openai.chat.completions.create(request).withResponse();
      const want = expected('reasoning', request as ChatRequest);
      const message = completion.choices[0]?.message as Message;
      expect(message.content).toBe(want.content);
      // OpenAI and Azure never return reasoning text, only its token count.
      if (want.reasoning === null) expect(message.reasoning_content ?? undefined).toBeUndefined();
      else expect(message.reasoning_content).toBe(want.reasoning);
      expect(completion.usage?.completion_tokens_details?.reasoning_tokens ?? 0).toBe(want.usage.reasoning);
      const f = fake();
      if (f) c.expectReasoningUpstream(f.last().body);
      const row = await logOf(gw.t, request_id);
      expect(row).toMatchObject({
        reasoningTokens: want.usage.reasoning,
        completionTokens: want.usage.completion,
        cachedTokens: want.usage.cached,
        costMicros: expectedCost(want.usage),
      });
    });

    it('reasoning (stream): delta.reasoning_content pieces rebuild the reasoning text', async () => {
      use('reasoning');
      const request = ask({ messages: [{ role: 'user', content: 'What is 17 × 23?' }], reasoning_effort: 'low' });
      const { data: stream, request_id } = await openai.chat.completions
        .create({ ...request, stream: true })
        .withResponse();
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const want = expected('reasoning', request as ChatRequest);
      const got = assemble(chunks);
      expect(got.reasoning).toBe(want.reasoning ?? '');
      expect(got.content).toBe(want.content);
      const row = await logOf(gw.t, request_id);
      expect(row).toMatchObject({
        reasoningTokens: want.usage.reasoning,
        completionTokens: want.usage.completion,
        estimated: false,
      });
    });

    it('cached prompt tokens (non-stream and stream) are reported and billed at the cached price', async () => {
      use('cached_usage');
      const request = ask({ messages: [{ role: 'user', content: 'Summarise the cached document.' }] });
      const want = expected('cached_usage', request as ChatRequest);
      const { data: completion, request_id } = await openai.chat.completions.create(request).withResponse();
      expect(completion.usage?.prompt_tokens).toBe(want.usage.prompt);
      expect(completion.usage?.prompt_tokens_details?.cached_tokens ?? 0).toBe(want.usage.cached);
      const { data: stream, request_id: streamId } = await openai.chat.completions
        .create({ ...request, stream: true, stream_options: { include_usage: true } })
        .withResponse();
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const finalUsage = chunks[chunks.length - 1]?.usage;
      expect(finalUsage?.prompt_tokens).toBe(want.usage.prompt);
      expect(finalUsage?.prompt_tokens_details?.cached_tokens ?? 0).toBe(want.usage.cached);

      for (const id of [request_id, streamId]) {
        const row = await logOf(gw.t, id);
        expect(row).toMatchObject({
          promptTokens: want.usage.prompt,
          cachedTokens: want.usage.cached,
          completionTokens: want.usage.completion,
          estimated: false,
        });
        expect(row.costMicros).toBe(expectedCost(want.usage));
      }
      if (want.usage.cached > 0) {
        // Billing the cached part at the full input price would cost more.
        expect(expectedCost(want.usage)).toBeLessThan(expectedCost({ ...want.usage, cached: 0 }));
      }
    });

    it.skipIf(!c.embeddingModel)('embeddings: one vector per input, decoded by the SDK, usage recorded', async () => {
      const input = ['hello world', 'a second input'];
      const { data: result, request_id } = await openai.embeddings
        .create({ model: embedModel(c), input })
        .withResponse();
      expect(result.object).toBe('list');
      expect(result.data.map((d) => d.index)).toEqual([0, 1]);
      const want =
        c.type === 'gemini'
          ? input.map(fakeGeminiEmbedding)
          : c.type === 'mock'
            ? (mockEmbedding({ model: c.chatModel, input }).data.map((d) => d.embedding) as number[][])
            : input.map(fakeEmbeddingVector);
      result.data.forEach((d, i) => {
        const expectedVector = want[i] ?? [];
        expect(d.embedding).toHaveLength(expectedVector.length);
        d.embedding.forEach((value, j) => {
          expect(value).toBeCloseTo(expectedVector[j] ?? Number.NaN, 5);
        });
      });
      const row = await logOf(gw.t, request_id);
      expect(row).toMatchObject({
        status: 200,
        endpoint: 'embeddings',
        model: embedModel(c),
        channelId: channelIds.get(c.type),
        completionTokens: 0,
      });
    });
  });
});
