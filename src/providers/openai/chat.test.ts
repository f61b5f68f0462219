import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidUpstreamResponseError } from '../shared/stream-error.js';
import type { ChatRequest, UpstreamTarget } from '../types.js';
import { openaiAdapter } from './index.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/openai/${name}`, import.meta.url), 'utf8'));

const target: UpstreamTarget = {
  baseUrl: 'https://api.openai.com/v1/',
  apiKey: 'sk-test-123',
  upstreamModel: 'gpt-4o-2024-08-06',
  headers: { 'OpenAI-Organization': 'org-1', authorization: 'Bearer channel-should-not-win' },
  options: {},
};

const request: ChatRequest = {
  model: 'my-alias',
  messages: [{ role: 'user', content: "What's the weather like in SF?" }],
  temperature: 0.2,
  stream: true,
  stream_options: { include_usage: true },
  metadata: { team: 'a' },
};

describe('openai request', () => {
  it('posts the canonical request with only the model replaced', () => {
    const http = openaiAdapter.buildChatRequest(request, target);
    expect(http.method).toBe('POST');
    expect(http.url).toBe('https://api.openai.com/v1/chat/completions');
    expect(JSON.parse(http.body ?? '')).toEqual({ ...request, model: 'gpt-4o-2024-08-06' });
  });

  it('sends the key as Bearer, overriding a channel authorization header in any case', () => {
    const { headers } = openaiAdapter.buildChatRequest(request, target);
    expect(headers.Authorization).toBe('Bearer sk-test-123');
    expect(headers.authorization).toBeUndefined();
    expect(headers['OpenAI-Organization']).toBe('org-1');
    expect(headers['Content-Type']).toBe('application/json');
  });
});

describe('openai response', () => {
  it('returns a valid completion unchanged in substance', () => {
    const completion = openaiAdapter.parseChatResponse(fixture('chat.json'), request);
    expect(completion.id).toBe('chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL');
    expect(completion.choices[0]?.message.content).toMatch(/^I'm unable to provide real-time weather updates\./);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.system_fingerprint).toBe('fp_5050236cbd');
    expect(completion.usage?.total_tokens).toBe(44);
  });

  it('keeps cached and reasoning token details', () => {
    const completion = openaiAdapter.parseChatResponse(fixture('chat-reasoning-usage.json'), request);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(1920);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(256);
  });

  it('parses tool calls with content null', () => {
    const message = openaiAdapter.parseChatResponse(fixture('chat-tool-calls.json'), request).choices[0]?.message;
    expect(message?.content).toBeNull();
    expect(message?.tool_calls?.[0]?.function).toEqual({ name: 'get_weather', arguments: '{"city":"New York City"}' });
  });

  it('normalises reasoning from proxies into reasoning_content', () => {
    const body = {
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'hi', reasoning: 'because' }, finish_reason: 'stop' },
      ],
    };
    const message = openaiAdapter.parseChatResponse(body, request).choices[0]?.message;
    expect(message?.reasoning_content).toBe('because');
    expect(message).not.toHaveProperty('reasoning');
  });

  it('rejects a body without choices, and an error object sent with HTTP 200', () => {
    expect(() => openaiAdapter.parseChatResponse({ id: 'x' }, request)).toThrow(InvalidUpstreamResponseError);
    try {
      openaiAdapter.parseChatResponse({ error: { message: 'overloaded', type: 'server_error' } }, request);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidUpstreamResponseError);
      expect((error as InvalidUpstreamResponseError).info).toMatchObject({ status: 502, retryable: true });
    }
  });
});

describe('openai embeddings', () => {
  it('posts to /embeddings with the upstream model and parses the list', () => {
    const http = openaiAdapter.buildEmbeddingsRequest?.(
      { model: 'alias', input: ['a', 'b'], dimensions: 3 },
      { ...target, upstreamModel: 'text-embedding-3-small' },
    );
    expect(http?.url).toBe('https://api.openai.com/v1/embeddings');
    expect(JSON.parse(http?.body ?? '')).toEqual({ model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 3 });
    const parsed = openaiAdapter.parseEmbeddingsResponse?.(fixture('embeddings.json'), {
      model: 'alias',
      input: ['a', 'b'],
    });
    expect(parsed?.data).toHaveLength(2);
    expect(parsed?.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
  });
});
