import { describe, expect, it } from 'vitest';
import { parseSseText, readJsonFixture, readSseFixture } from '../../../test/fixtures/anthropic/load.js';
import type { UpstreamTarget } from '../types.js';
import { UpstreamStreamError } from './errors.js';
import { buildMessagesRequest, createMessagesRelay, relayMessage } from './passthrough.js';

const target: UpstreamTarget = {
  baseUrl: 'https://api.anthropic.com',
  apiKey: 'sk-ant-test',
  upstreamModel: 'claude-sonnet-4-5-20250929',
  headers: {},
  options: {},
};

const THINKING_TURN = {
  role: 'assistant',
  content: [
    { type: 'thinking', thinking: 'I will call get_weather.', signature: 'ErUBCkYIBxgCIkB3lJ4W9vU0oQ' },
    { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
    { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
  ],
};

describe('buildMessagesRequest', () => {
  it('sends the client body unmodified except the model: thinking param, signed thinking and redacted_thinking', () => {
    const body = {
      model: 'my-claude',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        THINKING_TURN,
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '15C' }] },
      ],
      stream: true,
    };
    const http = buildMessagesRequest(body, target, undefined);
    expect(http.url).toBe('https://api.anthropic.com/v1/messages');
    expect(http.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' });
    expect(http.headers['anthropic-beta']).toBeUndefined();
    expect(JSON.parse(http.body ?? '')).toEqual({ ...body, model: 'claude-sonnet-4-5-20250929' });
  });

  it("passes the client's anthropic-beta on, after the channel's own", () => {
    const withBeta = { ...target, headers: { 'Anthropic-Beta': 'context-1m-2025-08-07' } };
    const http = buildMessagesRequest({ model: 'm' }, withBeta, 'interleaved-thinking-2025-05-14');
    expect(http.headers['anthropic-beta']).toBe('context-1m-2025-08-07,interleaved-thinking-2025-05-14');
    expect(buildMessagesRequest({ model: 'm' }, target, 'a,b').headers['anthropic-beta']).toBe('a,b');
  });
});

describe('relayMessage', () => {
  it('returns the message as it came (thinking signature, redacted_thinking, usage) under the requested model', () => {
    const body = readJsonFixture('message-redacted-thinking-tool-use.json') as Record<string, unknown>;
    const { message, usage } = relayMessage(body, 'my-claude');
    expect(message).toEqual({ ...body, model: 'my-claude' });
    expect(usage).toMatchObject({
      prompt_tokens: 28,
      completion_tokens: 96,
      prompt_tokens_details: { cached_tokens: 8, cache_write_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 30 },
    });
  });

  it('rejects a body that is not a message', () => {
    expect(() => relayMessage({ type: 'error', error: { type: 'api_error' } }, 'm')).toThrow(UpstreamStreamError);
  });
});

describe('createMessagesRelay', () => {
  const events = readSseFixture('stream-thinking-redacted-tool-use.sse');

  it('relays every event as it came, message_start renamed to the requested model with its usage intact', () => {
    const relay = createMessagesRelay('my-claude');
    const text = events.map((event) => relay.push(event)).join('');
    const sent = parseSseText(text);
    const upstream = events.map((event) => ({ event: event.event, data: JSON.parse(event.data) as unknown }));
    expect(sent.slice(1)).toEqual(upstream.slice(1));
    const start = upstream[0]?.data as { message: Record<string, unknown> };
    expect(sent[0]).toEqual({
      event: 'message_start',
      data: { ...start, message: { ...start.message, model: 'my-claude' } },
    });
    expect((sent[0]?.data.message as { usage?: unknown } | undefined)?.usage).toEqual({
      input_tokens: 20,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 8,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 1,
      service_tier: 'standard',
    });
    expect(text).toContain('"signature_delta"');
    expect(relay.finished).toBe(true);
    expect(relay.usage()).toMatchObject({ prompt_tokens: 28, completion_tokens: 96 });
    expect(relay.reported()).toEqual({ prompt: 28, cached: 8, completion: 96, reasoning: 30 });
  });

  it('a stream cut after message_start and some deltas: input and cache counts reported, output left to estimate', () => {
    const relay = createMessagesRelay('my-claude');
    for (const event of events.slice(0, 5)) relay.push(event);
    expect(relay.finished).toBe(false);
    expect(relay.usage()).toBeNull();
    expect(relay.reported()).toEqual({ prompt: 28, cached: 8 });
    expect(relay.output()).toEqual({
      text: '',
      reasoning: 'The user wants the weather in Paris. I will call get_weather.',
    });
  });

  it('throws the mapped error on an error event', () => {
    const relay = createMessagesRelay('m');
    const [errorEvent] = readSseFixture('stream-error-overloaded.sse').filter((event) => event.event === 'error');
    expect(errorEvent).toBeDefined();
    expect(() => relay.push(errorEvent ?? { data: '' })).toThrow(UpstreamStreamError);
  });
});
