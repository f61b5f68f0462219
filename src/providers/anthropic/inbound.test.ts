import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import type { ChatCompletion } from '../types.js';
import { toAnthropicRequestBody } from './chat-request.js';
import { anthropicRequestToChat, chatToAnthropicMessage, toAnthropicError } from './inbound.js';
import type { AnthropicMessagesRequest } from './types.js';

describe('anthropicRequestToChat', () => {
  it('maps system, content blocks, tool use and tool results', () => {
    const body: AnthropicMessagesRequest = {
      model: 'claude-sonnet-4',
      max_tokens: 1024,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'Use metric units.', cache_control: { type: 'ephemeral' } },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image, and the weather there?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/paris.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'It is Paris.', signature: 'sig' },
            { type: 'text', text: 'Paris. Checking weather.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [
                { type: 'text', text: '15C' },
                { type: 'text', text: 'cloudy' },
              ],
            },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_2', name: 'get_forecast', input: { city: 'Paris' } }],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'service down', is_error: true }],
        },
      ],
    };
    const request = anthropicRequestToChat(body);
    expect(request.model).toBe('claude-sonnet-4');
    expect(request.max_tokens).toBe(1024);
    expect(request.messages).toEqual([
      { role: 'system', content: 'You are terse.\nUse metric units.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this image, and the weather there?' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
          { type: 'image_url', image_url: { url: 'https://example.com/paris.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Paris. Checking weather.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '15C\ncloudy' },
      { role: 'user', content: 'And tomorrow?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'toolu_2', type: 'function', function: { name: 'get_forecast', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: service down' },
    ]);
  });

  it('maps tools, tool_choice, sampling, thinking, metadata and streaming', () => {
    const request = anthropicRequestToChat({
      model: 'claude-sonnet-4',
      max_tokens: 20000,
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [
        {
          name: 'get_weather',
          description: 'Weather',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      thinking: { type: 'enabled', budget_tokens: 16000 },
      metadata: { user_id: 'user-7' },
      stream: true,
    });
    expect(request).toEqual({
      model: 'claude-sonnet-4',
      max_tokens: 20000,
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['END'],
      temperature: 0.5,
      top_p: 0.9,
      reasoning_effort: 'high',
      user: 'user-7',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('maps the remaining tool_choice forms and thinking budgets', () => {
    const base: AnthropicMessagesRequest = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] };
    expect(anthropicRequestToChat({ ...base, tool_choice: { type: 'auto' } }).tool_choice).toBe('auto');
    expect(anthropicRequestToChat({ ...base, tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    expect(anthropicRequestToChat({ ...base, tool_choice: { type: 'tool', name: 'f' } }).tool_choice).toEqual({
      type: 'function',
      function: { name: 'f' },
    });
    expect(
      anthropicRequestToChat({ ...base, thinking: { type: 'enabled', budget_tokens: 1024 } }).reasoning_effort,
    ).toBe('low');
    expect(
      anthropicRequestToChat({ ...base, thinking: { type: 'enabled', budget_tokens: 8000 } }).reasoning_effort,
    ).toBe('medium');
    expect(anthropicRequestToChat({ ...base, thinking: { type: 'disabled' } }).reasoning_effort).toBeUndefined();
    expect(anthropicRequestToChat({ ...base, stream: false }).stream_options).toBeUndefined();
  });

  it('rejects server tools and unsupported sources instead of dropping them', () => {
    const base: AnthropicMessagesRequest = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] };
    expect(() =>
      anthropicRequestToChat({
        ...base,
        tools: [{ name: 'web_search', type: 'web_search_20250305', input_schema: {} }],
      }),
    ).toThrow(ApiError);
    expect(() =>
      anthropicRequestToChat({
        ...base,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }],
      }),
    ).toThrow(/Image source type 'file'/);
  });

  it('round-trips through the upstream mapping back to the original conversation', () => {
    const original: AnthropicMessagesRequest = {
      model: 'claude-sonnet-4',
      max_tokens: 512,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Oslo' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_9', content: '-3C' },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
    };
    const upstream = toAnthropicRequestBody(anthropicRequestToChat(original), 'claude-sonnet-4');
    expect(upstream.system).toBe('Be brief.');
    expect(upstream.max_tokens).toBe(512);
    expect(upstream.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Oslo' } }],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_9', content: '-3C' },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ]);
  });
});

describe('chatToAnthropicMessage', () => {
  const completion: ChatCompletion = {
    id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
    object: 'chat.completion',
    created: 1727346182,
    model: 'gpt-4o-2024-08-06',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Checking both.',
          reasoning_content: 'Two cities.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Tok' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: {
      prompt_tokens: 1200,
      completion_tokens: 80,
      total_tokens: 1280,
      prompt_tokens_details: { cached_tokens: 1000 },
    },
  };

  it('builds thinking, text and tool_use blocks with Anthropic usage', () => {
    expect(chatToAnthropicMessage(completion, 'claude-sonnet-4')).toEqual({
      id: 'msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4',
      content: [
        { type: 'thinking', thinking: 'Two cities.', signature: '' },
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 200, output_tokens: 80, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000 },
    });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
  ] as const)('maps finish_reason %s to stop_reason %s', (finishReason, stopReason) => {
    const message = chatToAnthropicMessage(
      {
        ...completion,
        choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: finishReason }],
      },
      'm',
    );
    expect(message.stop_reason).toBe(stopReason);
    expect(message.content).toEqual([{ type: 'text', text: 'x' }]);
  });
});

describe('toAnthropicError', () => {
  it.each([
    [400, 'bad_request', 'invalid_request_error'],
    [401, 'invalid_api_key', 'authentication_error'],
    [403, 'model_not_allowed', 'permission_error'],
    [404, 'model_not_found', 'not_found_error'],
    [429, 'rate_limit_exceeded', 'rate_limit_error'],
    [500, 'internal_error', 'api_error'],
    [502, 'upstream_error', 'api_error'],
    [503, 'no_available_channel', 'overloaded_error'],
  ])('maps %i %s to %s', (status, code, type) => {
    expect(toAnthropicError(status, code, 'Something specific')).toEqual({
      type: 'error',
      error: { type, message: 'Something specific' },
    });
  });
});
