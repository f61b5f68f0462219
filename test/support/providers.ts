/**
 * One entry per channel type: how to start its fake upstream, how to configure a channel on it, what
 * each scenario should come back as, and what the upstream must have received (its own wire format).
 * The gateway suites run every behaviour over all of them.
 */
import { expect } from 'vitest';
import { mockChatCompletion } from '../../src/providers/mock/index.js';
import type { ChatRequest } from '../../src/providers/types.js';
import { ANTHROPIC_STREAM_ERROR_PARTIAL, anthropicAnswers, start as startAnthropic } from './fakes/anthropic.js';
import { GEMINI_STREAM_ERROR_PARTIAL, geminiAnswers, start as startGemini } from './fakes/gemini.js';
import { type CanonicalAnswer, type FakeUpstream, header, isRecord, type RecordedRequest } from './fakes/http.js';
import { OPENAI_STREAM_ERROR_PARTIAL, openAiAnswers, start as startOpenAi } from './fakes/openai.js';
import { type ChannelBody, PNG_BASE64, PNG_DATA_URL } from './gateway.js';

export type ProviderType = 'openai' | 'azure-openai' | 'anthropic' | 'gemini' | 'openai-compatible' | 'mock';
export type AnswerScenario = 'text' | 'tool_call' | 'reasoning' | 'cached_usage' | 'long_text';

export interface ProviderCase {
  type: ProviderType;
  /** Start the fake upstream (none for the in-process mock). */
  start(): Promise<FakeUpstream | undefined>;
  channel(fake: FakeUpstream | undefined, name: string): ChannelBody;
  /** Upstream model (or Azure deployment) the chat route points at. */
  chatModel: string;
  /** Upstream embeddings model, when the provider has an embeddings API. */
  embeddingModel?: string;
  answers?: Record<AnswerScenario, CanonicalAnswer>;
  /** Text a `stream_error` scenario sends before failing. */
  streamErrorPartial?: string;
  /** Checks the upstream request's address, auth and stream flags. */
  expectChatRequest(req: RecordedRequest, fake: FakeUpstream, options: { stream: boolean; model: string }): void;
  /** Checks the upstream got the assistant tool call and the tool result in its own format. */
  expectToolResultUpstream(body: unknown): void;
  /** Checks the upstream got the image part in its own format. */
  expectImageUpstream(body: unknown): void;
  /** Checks the upstream got reasoning switched on for `reasoning_effort: 'low'`. */
  expectReasoningUpstream(body: unknown): void;
  /** Checks the upstream got the get_weather tool declaration. */
  expectToolsUpstream(body: unknown): void;
}

/** The conversation every multi-turn test sends: a call to get_weather and its result. */
export const TOOL_RESULT_TEXT = '15°C and cloudy';
export const TOOL_TURN_MESSAGES = [
  { role: 'user' as const, content: "What's the weather in Paris?" },
  {
    role: 'assistant' as const,
    content: null,
    tool_calls: [
      { id: 'call_w1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ],
  },
  { role: 'tool' as const, tool_call_id: 'call_w1', content: TOOL_RESULT_TEXT },
];

const body = (value: unknown): Record<string, unknown> => {
  expect(isRecord(value)).toBe(true);
  return value as Record<string, unknown>;
};

function expectOpenAiToolResult(value: unknown): void {
  const messages = body(value).messages as unknown[];
  expect(messages).toEqual([
    { role: 'user', content: "What's the weather in Paris?" },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_w1', content: TOOL_RESULT_TEXT },
  ]);
}

function expectOpenAiImage(value: unknown): void {
  const [first] = body(value).messages as Array<Record<string, unknown>>;
  expect(first?.content).toEqual([
    { type: 'text', text: 'What is in this image?' },
    { type: 'image_url', image_url: { url: PNG_DATA_URL } },
  ]);
}

function expectOpenAiTools(value: unknown): void {
  const tools = body(value).tools as Array<Record<string, unknown>>;
  expect(tools).toHaveLength(1);
  expect(tools[0]).toMatchObject({
    type: 'function',
    function: { name: 'get_weather', parameters: { type: 'object' } },
  });
}

const expectReasoningEffort = (value: unknown) => expect(body(value).reasoning_effort).toBe('low');

function expectBearer(req: RecordedRequest, key: string): void {
  expect(header(req.headers, 'authorization')).toBe(`Bearer ${key}`);
}

const openaiCase: ProviderCase = {
  type: 'openai',
  start: () => startOpenAi({ flavor: 'openai' }),
  channel: (fake, name) => ({ name, type: 'openai', baseUrl: fake?.baseUrl, keys: [fake?.key ?? ''] }),
  chatModel: 'gpt-4o',
  embeddingModel: 'text-embedding-3-small',
  answers: openAiAnswers('openai'),
  streamErrorPartial: OPENAI_STREAM_ERROR_PARTIAL.openai,
  expectChatRequest(req, fake, { stream, model }) {
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/chat/completions');
    expectBearer(req, fake.key);
    const b = body(req.body);
    expect(b.model).toBe(model);
    expect(b.stream === true).toBe(stream);
    // The gateway always asks for usage on streams it passes through (PROTOCOLS.md §1.4).
    if (stream) expect(b.stream_options).toMatchObject({ include_usage: true });
  },
  expectToolResultUpstream: expectOpenAiToolResult,
  expectImageUpstream: expectOpenAiImage,
  expectReasoningUpstream: expectReasoningEffort,
  expectToolsUpstream: expectOpenAiTools,
};

const azureCase: ProviderCase = {
  type: 'azure-openai',
  start: () => startOpenAi({ flavor: 'azure', deployments: ['gpt-4o-deploy', 'embed-deploy'] }),
  channel: (fake, name) => ({
    name,
    type: 'azure-openai',
    baseUrl: fake?.baseUrl,
    keys: [fake?.key ?? ''],
    options: { provider: { apiVersion: '2024-10-21' } },
  }),
  chatModel: 'gpt-4o-deploy',
  embeddingModel: 'embed-deploy',
  answers: openAiAnswers('azure'),
  streamErrorPartial: OPENAI_STREAM_ERROR_PARTIAL.azure,
  expectChatRequest(req, fake, { stream, model }) {
    expect(req.path).toBe(`/openai/deployments/${model}/chat/completions`);
    expect(req.query.get('api-version')).toBe('2024-10-21');
    expect(header(req.headers, 'api-key')).toBe(fake.key);
    expect(header(req.headers, 'authorization')).toBeUndefined();
    const b = body(req.body);
    expect(b.stream === true).toBe(stream);
    if (stream) expect(b.stream_options).toMatchObject({ include_usage: true });
  },
  expectToolResultUpstream: expectOpenAiToolResult,
  expectImageUpstream: expectOpenAiImage,
  expectReasoningUpstream: expectReasoningEffort,
  expectToolsUpstream: expectOpenAiTools,
};

const compatibleCase: ProviderCase = {
  type: 'openai-compatible',
  start: () => startOpenAi({ flavor: 'deepseek' }),
  channel: (fake, name) => ({ name, type: 'openai-compatible', baseUrl: fake?.baseUrl, keys: [fake?.key ?? ''] }),
  chatModel: 'deepseek-chat',
  answers: openAiAnswers('deepseek'),
  streamErrorPartial: OPENAI_STREAM_ERROR_PARTIAL.deepseek,
  expectChatRequest(req, fake, { stream, model }) {
    expect(req.path).toBe('/chat/completions');
    expectBearer(req, fake.key);
    const b = body(req.body);
    expect(b.model).toBe(model);
    expect(b.stream === true).toBe(stream);
    if (stream) expect(b.stream_options).toMatchObject({ include_usage: true });
  },
  expectToolResultUpstream: expectOpenAiToolResult,
  expectImageUpstream: expectOpenAiImage,
  expectReasoningUpstream: expectReasoningEffort,
  expectToolsUpstream: expectOpenAiTools,
};

const anthropicCase: ProviderCase = {
  type: 'anthropic',
  start: () => startAnthropic(),
  channel: (fake, name) => ({ name, type: 'anthropic', baseUrl: fake?.baseUrl, keys: [fake?.key ?? ''] }),
  chatModel: 'claude-sonnet-4-5',
  answers: anthropicAnswers(),
  streamErrorPartial: ANTHROPIC_STREAM_ERROR_PARTIAL,
  expectChatRequest(req, fake, { stream, model }) {
    expect(req.path).toBe('/v1/messages');
    expect(header(req.headers, 'x-api-key')).toBe(fake.key);
    expect(header(req.headers, 'anthropic-version')).toBe('2023-06-01');
    expect(header(req.headers, 'authorization')).toBeUndefined();
    const b = body(req.body);
    expect(b.model).toBe(model);
    expect(typeof b.max_tokens).toBe('number');
    expect(b.stream === true).toBe(stream);
  },
  expectToolResultUpstream(value) {
    const messages = body(value).messages as unknown[];
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatchObject({ role: 'user' });
    expect(messages[1]).toEqual({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'call_w1', name: 'get_weather', input: { city: 'Paris' } }],
    });
    expect(messages[2]).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'call_w1', content: TOOL_RESULT_TEXT }],
    });
  },
  expectImageUpstream(value) {
    const [first] = body(value).messages as Array<Record<string, unknown>>;
    expect(first?.content).toEqual([
      { type: 'text', text: 'What is in this image?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
    ]);
  },
  expectReasoningUpstream(value) {
    const b = body(value);
    expect(b.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(b.max_tokens as number).toBeGreaterThan(2048);
  },
  expectToolsUpstream(value) {
    const tools = body(value).tools as Array<Record<string, unknown>>;
    expect(tools).toEqual([
      {
        name: 'get_weather',
        description: 'Current weather for a city',
        input_schema: expect.objectContaining({ type: 'object' }),
      },
    ]);
  },
};

const geminiCase: ProviderCase = {
  type: 'gemini',
  start: () => startGemini(),
  channel: (fake, name) => ({ name, type: 'gemini', baseUrl: fake?.baseUrl, keys: [fake?.key ?? ''] }),
  chatModel: 'gemini-2.5-flash',
  embeddingModel: 'gemini-embedding-001',
  answers: geminiAnswers(),
  streamErrorPartial: GEMINI_STREAM_ERROR_PARTIAL,
  expectChatRequest(req, fake, { stream, model }) {
    expect(req.path).toBe(`/v1beta/models/${model}:${stream ? 'streamGenerateContent' : 'generateContent'}`);
    if (stream) expect(req.query.get('alt')).toBe('sse');
    expect(header(req.headers, 'x-goog-api-key')).toBe(fake.key);
    // The key travels in a header, never in the URL (URLs end up in proxy logs).
    expect(req.query.get('key')).toBeNull();
  },
  expectToolResultUpstream(value) {
    const contents = body(value).contents as Array<Record<string, unknown>>;
    expect(contents).toHaveLength(3);
    expect(contents[0]).toEqual({ role: 'user', parts: [{ text: "What's the weather in Paris?" }] });
    expect(contents[1]).toMatchObject({
      role: 'model',
      parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }],
    });
    expect(contents[2]).toEqual({
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { output: TOOL_RESULT_TEXT } } }],
    });
  },
  expectImageUpstream(value) {
    const contents = body(value).contents as Array<Record<string, unknown>>;
    expect(contents[0]).toEqual({
      role: 'user',
      parts: [{ text: 'What is in this image?' }, { inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }],
    });
  },
  expectReasoningUpstream(value) {
    expect(body(value).generationConfig).toMatchObject({
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
    });
  },
  expectToolsUpstream(value) {
    const tools = body(value).tools as Array<Record<string, unknown>>;
    expect(tools).toEqual([
      {
        functionDeclarations: [
          expect.objectContaining({ name: 'get_weather', description: 'Current weather for a city' }),
        ],
      },
    ]);
  },
};

const mockCase: ProviderCase = {
  type: 'mock',
  start: async () => undefined,
  channel: (_fake, name) => ({ name, type: 'mock' }),
  chatModel: 'mock-gpt',
  embeddingModel: 'mock-embedding',
  expectChatRequest: () => undefined,
  expectToolResultUpstream: () => undefined,
  expectImageUpstream: () => undefined,
  expectReasoningUpstream: () => undefined,
  expectToolsUpstream: () => undefined,
};

export const PROVIDER_CASES: ProviderCase[] = [
  openaiCase,
  azureCase,
  anthropicCase,
  geminiCase,
  compatibleCase,
  mockCase,
];

export function providerCase(type: ProviderType): ProviderCase {
  const found = PROVIDER_CASES.find((c) => c.type === type);
  if (!found) throw new Error(`no provider case ${type}`);
  return found;
}

/**
 * What the gateway should answer for `scenario`: the fake's script, or for the mock the deterministic
 * mock answer to this very request.
 */
export function expectedAnswer(c: ProviderCase, scenario: AnswerScenario, request: ChatRequest): CanonicalAnswer {
  if (c.answers) return c.answers[scenario];
  const completion = mockChatCompletion({ ...request, model: c.chatModel }, { id: 'chatcmpl-expected', created: 0 });
  const choice = completion.choices[0];
  const usage = completion.usage;
  return {
    content: choice?.message.content ?? null,
    reasoning: choice?.message.reasoning_content ?? null,
    toolCalls: (choice?.message.tool_calls ?? []).map((call) => ({
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    })),
    finish: choice?.finish_reason === 'tool_calls' ? 'tool_calls' : 'stop',
    usage: {
      prompt: usage?.prompt_tokens ?? 0,
      completion: usage?.completion_tokens ?? 0,
      cached: usage?.prompt_tokens_details?.cached_tokens ?? 0,
      reasoning: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
    },
  };
}
