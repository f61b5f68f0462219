/**
 * One contract suite, run against every adapter in the registry (Hono-style shared suite). Each HTTP
 * adapter is checked with the wire fixtures in `test/fixtures/<id>/`; an adapter whose fixtures are
 * missing is reported as skipped, with the files it lacks. In-process adapters (mock) get the
 * in-process half of the contract.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from './registry.js';
import { isInProcessAdapter } from './shared/in-process.js';
import { parseSseText } from './shared/sse-text.js';
import { assembleChunks } from './shared/stream-assembly.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, ProviderAdapter, UpstreamTarget } from './types.js';

interface ContractFixtures {
  /** Non-stream response body carrying the same answer as `stream`. */
  chat: string;
  stream: string;
  error401: string;
  error429: string;
  /** Body sent with HTTP 500 (any server-side error body of the provider). */
  error500: string;
}

const DEFAULT_FIXTURES: ContractFixtures = {
  chat: 'chat.json',
  stream: 'stream-text.sse',
  error401: 'error-401.json',
  error429: 'error-429.json',
  error500: 'error-500.json',
};

/** Providers whose fixture folders use other names (owned by their own folder's authors). */
const FIXTURE_NAMES: Record<string, Partial<ContractFixtures>> = {
  anthropic: {
    chat: 'message-text.json',
    error401: 'error-authentication.json',
    error429: 'error-rate-limit.json',
    error500: 'error-overloaded.json',
  },
};

const fixtureUrl = (id: string, name: string): URL => new URL(`../../test/fixtures/${id}/${name}`, import.meta.url);
const FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'];
const API_KEY = 'sk-contract-SECRET-0123456789';
const CLIENT_MODEL = 'client-alias-model';

const request: ChatRequest = {
  model: CLIENT_MODEL,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello.' },
  ],
  max_tokens: 64,
  temperature: 0.5,
};

function targetFor(): UpstreamTarget {
  return {
    baseUrl: 'https://upstream.example.com/base',
    apiKey: API_KEY,
    upstreamModel: 'upstream-model-x',
    headers: { 'X-Channel-Tag': 'c1' },
    options: {},
  };
}

function expectValidUsage(usage: ChatCompletion['usage'] | null | undefined): void {
  if (usage === undefined || usage === null) return;
  for (const value of [usage.prompt_tokens, usage.completion_tokens, usage.total_tokens]) {
    expect(Number.isInteger(value) && value >= 0).toBe(true);
  }
}

function expectValidCompletion(completion: ChatCompletion): void {
  expect(completion.object).toBe('chat.completion');
  expect(typeof completion.id).toBe('string');
  expect(typeof completion.created).toBe('number');
  expect(completion.model).not.toBe('');
  expect(completion.choices.length).toBeGreaterThan(0);
  for (const choice of completion.choices) {
    expect(typeof choice.index).toBe('number');
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content === null || typeof choice.message.content === 'string').toBe(true);
    expect(FINISH_REASONS).toContain(choice.finish_reason);
  }
  expectValidUsage(completion.usage);
}

function expectValidChunks(chunks: ChatCompletionChunk[]): void {
  expect(chunks.length).toBeGreaterThan(0);
  for (const chunk of chunks) {
    expect(chunk.object).toBe('chat.completion.chunk');
    expect(chunk.id).not.toBe('');
    expect(Array.isArray(chunk.choices)).toBe(true);
    for (const choice of chunk.choices) {
      expect(typeof choice.delta).toBe('object');
      expect(choice.finish_reason === null || FINISH_REASONS.includes(choice.finish_reason)).toBe(true);
    }
    expectValidUsage(chunk.usage);
  }
  expect(chunks.find((chunk) => chunk.choices.length > 0)?.choices[0]?.delta.role).toBe('assistant');
  expect(chunks.some((chunk) => chunk.choices.some((choice) => choice.finish_reason !== null))).toBe(true);
}

const entries = Object.entries(PROVIDERS) as Array<[string, ProviderAdapter]>;
const httpAdapters = entries.filter(([, adapter]) => !isInProcessAdapter(adapter));
const withFixtures = httpAdapters.map(([id, adapter]) => {
  const fixtures: ContractFixtures = { ...DEFAULT_FIXTURES, ...FIXTURE_NAMES[id] };
  const missing = Object.values(fixtures).filter((name) => !existsSync(fixtureUrl(id, name)));
  return { id, adapter, fixtures, missing };
});

describe('provider registry', () => {
  it.each(entries)('%s is registered under its own id with the full adapter interface', (id, adapter) => {
    expect(adapter.id).toBe(id);
    expect(adapter.label).not.toBe('');
    for (const method of ['buildChatRequest', 'parseChatResponse', 'createStreamTranslator', 'parseError'] as const) {
      expect(typeof adapter[method]).toBe('function');
    }
  });

  it.each(entries)('%s declares what it does, and does what it declares', (_id, adapter) => {
    const { baseUrl, endpoints, passThrough } = adapter;
    if (baseUrl.mode === 'default') expect(baseUrl.default).toMatch(/^https:\/\//);
    else expect(baseUrl.default).toBeNull();
    if (baseUrl.mode === 'none') expect(adapter.inProcess).toBeDefined();
    // Every provider chats, except those that serve only rerank (their chat methods refuse, retryably).
    if (!endpoints.includes('chat')) expect(endpoints).toEqual(['rerank']);
    const forwarded = endpoints.some((e) => ['count_tokens', 'moderations', 'completions', 'rerank'].includes(e));
    expect(typeof adapter.buildForwardedRequest === 'function').toBe(forwarded);
    const embeds = adapter.inProcess !== undefined || typeof adapter.buildEmbeddingsRequest === 'function';
    expect(endpoints.includes('embeddings')).toBe(embeds);
    if (!adapter.inProcess) expect(typeof adapter.parseEmbeddingsResponse === 'function').toBe(embeds);
    expect(endpoints.includes('messages')).toBe(adapter.messages !== undefined);
    for (const protocol of passThrough) expect(endpoints).toContain(protocol);
    if (passThrough.includes('chat')) expect(adapter.openaiCompatible).toBe(true);
    for (const field of adapter.options) {
      expect(field.key).toMatch(/^[a-zA-Z][a-zA-Z0-9]*$/);
      expect(field.kind === 'select').toBe(field.choices !== undefined);
    }
  });
});

for (const { id, missing } of withFixtures.filter((entry) => entry.missing.length > 0)) {
  describe(`adapter contract: ${id}`, () => {
    it.skip(`skipped: no contract fixtures in test/fixtures/${id}/ (missing ${missing.join(', ')})`, () => {});
  });
}

describe.each(withFixtures.filter((entry) => entry.missing.length === 0))(
  'adapter contract: $id',
  ({ id, adapter, fixtures }) => {
    const read = (name: string): string => readFileSync(fixtureUrl(id, name), 'utf8');

    it.each([false, true])(
      'builds a request (stream: %s) for the upstream model, under the base URL, with the key only in headers',
      (stream) => {
        const http = adapter.buildChatRequest({ ...request, stream }, targetFor());
        expect(http.method).toBe('POST');
        expect(http.url.startsWith('https://upstream.example.com/base/')).toBe(true);
        const wire = `${http.url}\n${http.body ?? ''}`;
        expect(wire).toContain('upstream-model-x');
        expect(wire).not.toContain(CLIENT_MODEL);
        expect(wire).not.toContain(API_KEY);
        expect(Object.values(http.headers).some((value) => value.includes(API_KEY))).toBe(true);
        // Header names are case-insensitive; adapters may normalise them.
        const channelTag = Object.entries(http.headers).find(([name]) => name.toLowerCase() === 'x-channel-tag');
        expect(channelTag?.[1]).toBe('c1');
        expect(() => JSON.parse(http.body ?? '')).not.toThrow();
      },
    );

    it('parses its non-stream fixture into a valid ChatCompletion', () => {
      expectValidCompletion(adapter.parseChatResponse(JSON.parse(read(fixtures.chat)), request));
    });

    it('translates its stream fixture into valid chunks that rebuild the non-stream answer', () => {
      const translator = adapter.createStreamTranslator(
        { ...request, stream: true },
        { id: 'chatcmpl-contract', created: 1700000000 },
      );
      const chunks = [
        ...parseSseText(read(fixtures.stream)).flatMap((event) => translator.push(event)),
        ...translator.end(),
      ];
      expectValidChunks(chunks);
      const streamed = assembleChunks(chunks).choices[0]?.message;
      const whole = adapter.parseChatResponse(JSON.parse(read(fixtures.chat)), request).choices[0]?.message;
      expect(streamed?.content ?? '').toBe(whole?.content ?? '');
      expect(streamed?.reasoning_content ?? '').toBe(whole?.reasoning_content ?? '');
    });

    it('maps 401, 429 and 500 to 502 / 429 / 502 with retryable flags, without echoing secrets', () => {
      const unauthorized = adapter.parseError(401, read(fixtures.error401), {});
      expect(unauthorized).toMatchObject({ status: 502, code: 'upstream_auth_failed' });
      expect(unauthorized.message).not.toMatch(/sk-[A-Za-z0-9]|AIza[0-9A-Za-z]/);
      const limited = adapter.parseError(429, read(fixtures.error429), { 'retry-after': '3' });
      expect(limited).toMatchObject({
        status: 429,
        code: 'rate_limit_exceeded',
        retryable: true,
        retryAfterSeconds: 3,
      });
      expect(adapter.parseError(500, read(fixtures.error500), {})).toMatchObject({ status: 502, retryable: true });
    });
  },
);

describe.each(entries.filter(([, adapter]) => isInProcessAdapter(adapter)))(
  'in-process contract: %s',
  (_id, adapter) => {
    it('answers without HTTP, and its stream rebuilds its non-stream answer', () => {
      if (!isInProcessAdapter(adapter)) throw new Error('not in-process');
      expect(() => adapter.buildChatRequest(request, targetFor())).toThrow();
      const ids = { id: 'chatcmpl-contract', created: 1700000000 };
      const whole = adapter.inProcess.chat(request, ids);
      expectValidCompletion(whole);
      const chunks = adapter.inProcess.chatChunks({ ...request, stream: true }, ids);
      expectValidChunks(chunks);
      expect(assembleChunks(chunks).choices).toEqual(whole.choices);
    });
  },
);
