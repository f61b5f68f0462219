/**
 * Streams from OpenAI-format upstreams are passed through as bytes (DESIGN.md §2 rule 4), so each
 * variation of the "OpenAI-compatible" servers reaches the client as the server wrote it — unless the
 * gateway normalises it. These tests pin down what an OpenAI client gets from Ollama, vLLM, DeepSeek,
 * Azure and a Python server that writes JSON with spaces.
 *
 * Regressions: these variations used to reach clients raw, because the byte pass-through of
 * ChatService.streamAttempt (src/gateway/chat.ts) skipped the adapter's stream translator, where they are
 * normalised; the pass-through is now kept for OpenAI itself only.
 */
import type OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import { type FakeUpstream, fixtureEvents, header } from '../../support/fakes/http.js';
import { start as startOpenAi } from '../../support/fakes/openai.js';
import {
  addChannel,
  addModel,
  type GatewayUnderTest,
  logOf,
  openaiClient,
  postRaw,
  startGateway,
  WEATHER_TOOL,
} from '../../support/gateway.js';

type Delta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string; reasoning?: string };

/** `json.dumps` with Python's default separators (", " and ": "), as pydantic v1 `.json()` writes. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

const PYTHON_STREAM = [
  {
    id: 'chatcmpl-py1',
    object: 'chat.completion.chunk',
    created: 1754550500,
    model: 'vicuna-13b',
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
  },
  {
    id: 'chatcmpl-py1',
    object: 'chat.completion.chunk',
    created: 1754550500,
    model: 'vicuna-13b',
    choices: [{ index: 0, delta: { content: 'Hello from a Python server.' }, finish_reason: null }],
  },
  {
    id: 'chatcmpl-py1',
    object: 'chat.completion.chunk',
    created: 1754550500,
    model: 'vicuna-13b',
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
  },
  {
    id: 'chatcmpl-py1',
    object: 'chat.completion.chunk',
    created: 1754550500,
    model: 'vicuna-13b',
    choices: [],
    usage: { prompt_tokens: 321, completion_tokens: 7, total_tokens: 328 },
  },
]
  .map((chunk) => `data: ${pythonJson(chunk)}\n\n`)
  .concat(['data: [DONE]\n\n']);

async function chunksOf(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** Registers this suite in the calling test file (one test process hosts several suites). */
export function passthroughSuite(): void {
  describe.each(ENGINES)('OpenAI-compatible variations through the stream pass-through (%s)', (engine) => {
    let gw: GatewayUnderTest;
    let openai: OpenAI;
    let ollama: FakeUpstream;
    let deepseek: FakeUpstream;
    let azure: FakeUpstream;
    const ask = (model: string) => ({
      model,
      messages: [{ role: 'user' as const, content: 'What is the capital of France?' }],
    });

    beforeAll(async () => {
      gw = await startGateway(engine);
      openai = openaiClient(gw);
      ollama = await startOpenAi({ flavor: 'ollama' });
      deepseek = await startOpenAi({ flavor: 'deepseek' });
      azure = await startOpenAi({ flavor: 'azure' });
      // Ollama runs without a key: an openai-compatible channel may have none.
      const ollamaChannel = await addChannel(gw, {
        name: 'ollama',
        type: 'openai-compatible',
        baseUrl: ollama.baseUrl,
      });
      const deepseekChannel = await addChannel(gw, {
        name: 'deepseek',
        type: 'openai-compatible',
        baseUrl: deepseek.baseUrl,
        keys: [deepseek.key],
      });
      const azureChannel = await addChannel(gw, {
        name: 'azure',
        type: 'azure-openai',
        baseUrl: azure.baseUrl,
        keys: [azure.key],
      });
      await addModel(gw, { name: 'local-qwen', routes: [{ channelId: ollamaChannel.id, upstreamModel: 'qwen3:8b' }] });
      await addModel(gw, { name: 'ds', routes: [{ channelId: deepseekChannel.id, upstreamModel: 'deepseek-chat' }] });
      await addModel(gw, { name: 'az', routes: [{ channelId: azureChannel.id, upstreamModel: 'gpt-4o' }] });
    });
    afterAll(async () => {
      for (const fake of [ollama, deepseek, azure]) await fake?.close();
      await gw?.t.close();
    });

    describe('Ollama', () => {
      it('a keyless channel sends no Authorization header; reasoning under `reasoning` becomes message.reasoning_content', async () => {
        ollama.setScenario('reasoning');
        const completion = await openai.chat.completions.create(ask('local-qwen'));
        const message = completion.choices[0]?.message as OpenAI.Chat.ChatCompletionMessage & {
          reasoning_content?: string;
          reasoning?: string;
        };
        expect(message.content).toBe('Paris.');
        expect(message.reasoning_content).toBe('The capital of France is Paris.');
        expect(message.reasoning).toBeUndefined();
        expect(header(ollama.last().headers, 'authorization')).toBeUndefined();
        expect(ollama.last().path).toBe('/v1/chat/completions');
      });

      it('a tool call that arrives whole in one delta is reassembled by the SDK stream helper', async () => {
        ollama.setScenario('tool_call');
        const completion = await openai.chat.completions
          .stream({
            model: 'local-qwen',
            stream: true,
            messages: [{ role: 'user', content: 'Weather in Paris?' }],
            tools: [WEATHER_TOOL],
          })
          .finalChatCompletion();
        const call = completion.choices[0]?.message.tool_calls?.[0];
        expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
        expect(call?.type === 'function' ? call.function : undefined).toMatchObject({
          name: 'get_weather',
          arguments: '{"city":"Paris"}',
        });
      });

      // Regression: non-stream answers had `reasoning` renamed to `reasoning_content`, streams forwarded
      // Ollama's `delta.reasoning` as it was.
      it('stream: reasoning arrives as delta.reasoning_content, as in the non-stream answer', async () => {
        ollama.setScenario('reasoning');
        const chunks = await chunksOf(await openai.chat.completions.create({ ...ask('local-qwen'), stream: true }));
        const reasoning = chunks
          .map((c) => (c.choices[0]?.delta as Delta | undefined)?.reasoning_content ?? '')
          .join('');
        expect(reasoning).toBe('The capital of France is Paris.');
      });
    });

    describe('vLLM (usage chunk with choices: null)', () => {
      const replay = fixtureEvents('openai-compatible', 'vllm-stream-usage-null-choices.sse');

      it("the usage of vLLM's final chunk is billed (not estimated)", async () => {
        ollama.setScenario({ name: 'text', replay });
        const res = await postRaw(
          `${gw.url}/v1/chat/completions`,
          { ...ask('local-qwen'), stream: true },
          { authorization: `Bearer ${gw.key}` },
        );
        expect(res.status).toBe(200);
        const row = await logOf(gw.t, res.requestId);
        expect(row).toMatchObject({ status: 200, promptTokens: 12, completionTokens: 18, estimated: false });
      });

      // Regression: the gateway asks vLLM for include_usage itself and used to forward its usage chunk to
      // a client that did not ask, with `choices: null`, on which the OpenAI SDK's stream helper crashes
      // ("chunk.choices is not iterable").
      it('the injected usage chunk is not forwarded to a client that did not ask (and the SDK helper does not crash)', async () => {
        ollama.setScenario({ name: 'text', replay });
        const res = await postRaw(
          `${gw.url}/v1/chat/completions`,
          { ...ask('local-qwen'), stream: true },
          { authorization: `Bearer ${gw.key}` },
        );
        expect(res.payloads.every((p) => Array.isArray(p.choices))).toBe(true);
        const completion = await openai.chat.completions
          .stream({ ...ask('local-qwen'), stream: true })
          .finalChatCompletion();
        expect(completion.choices[0]?.message.content).toBe('1, 2, 3');
      });
    });

    describe('DeepSeek', () => {
      it('non-stream: prompt_cache_hit_tokens are reported as prompt_tokens_details.cached_tokens', async () => {
        deepseek.setScenario('cached_usage');
        const completion = await openai.chat.completions.create(ask('ds'));
        expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(1152);
      });

      it('stream: the cache hits are billed from the final usage at the cached price', async () => {
        deepseek.setScenario('cached_usage');
        const { data, request_id } = await openai.chat.completions
          .create({ ...ask('ds'), stream: true, stream_options: { include_usage: true } })
          .withResponse();
        await chunksOf(data);
        const row = await logOf(gw.t, request_id);
        expect(row).toMatchObject({ promptTokens: 1200, cachedTokens: 1152, completionTokens: 3, estimated: false });
      });

      // Regression: the stream's usage was DeepSeek's own (prompt_cache_hit_tokens) while the non-stream
      // answer of the same request reports OpenAI's prompt_tokens_details.cached_tokens.
      it('stream: the usage the client asked for reports cached_tokens as the non-stream answer does', async () => {
        deepseek.setScenario('cached_usage');
        const chunks = await chunksOf(
          await openai.chat.completions.create({ ...ask('ds'), stream: true, stream_options: { include_usage: true } }),
        );
        const usage = chunks.find((c) => c.usage)?.usage;
        expect(usage?.prompt_tokens_details?.cached_tokens).toBe(1152);
      });
    });

    describe('Azure OpenAI', () => {
      // Regression: Azure's prompt-filter annotation ({"choices":[],"id":"","object":"","created":0,…})
      // was forwarded to OpenAI clients, which only expect `choices: []` on the usage chunk they asked for.
      it('the prompt-annotation chunk is not forwarded: every chunk is a chat.completion.chunk with choices', async () => {
        azure.setScenario('text');
        const chunks = await chunksOf(await openai.chat.completions.create({ ...ask('az'), stream: true }));
        for (const chunk of chunks) {
          expect(chunk.object).toBe('chat.completion.chunk');
          expect(chunk.choices.length).toBeGreaterThan(0);
        }
      });
    });

    describe('a Python server writing JSON with spaces ("usage": {…})', () => {
      // Regression: the pass-through looked for the exact bytes '"usage":{' and '"choices":[]', so a server
      // that serialises with Python's default separators (FastChat and other pydantic v1 servers) had its
      // usage ignored (billed from a local estimate) and its usage chunk forwarded unasked.
      it('its reported usage is billed and its usage chunk is not forwarded unasked', async () => {
        ollama.setScenario({ name: 'text', replay: PYTHON_STREAM });
        const res = await postRaw(
          `${gw.url}/v1/chat/completions`,
          { ...ask('local-qwen'), stream: true },
          { authorization: `Bearer ${gw.key}` },
        );
        expect(res.payloads.filter((p) => Array.isArray(p.choices) && p.choices.length === 0)).toEqual([]);
        const row = await logOf(gw.t, res.requestId);
        expect(row).toMatchObject({ promptTokens: 321, completionTokens: 7, estimated: false });
      });
    });
  });
}
