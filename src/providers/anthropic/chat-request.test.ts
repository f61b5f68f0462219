import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import type { ChatRequest, UpstreamTarget } from '../types.js';
import { buildChatRequest, DEFAULT_MAX_TOKENS, toAnthropicRequestBody } from './chat-request.js';
import { anthropicAdapter } from './index.js';

const target: UpstreamTarget = {
  baseUrl: 'https://api.anthropic.com',
  apiKey: 'sk-ant-test-key',
  upstreamModel: 'claude-sonnet-4-20250514',
  headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' },
  options: {},
};

const body = (request: Partial<ChatRequest>) =>
  toAnthropicRequestBody(
    { model: 'claude-sonnet', messages: [{ role: 'user', content: 'Hi' }], ...request },
    'claude-sonnet-4-20250514',
  );

describe('anthropicAdapter', () => {
  it('identifies itself and has no embeddings', () => {
    expect(anthropicAdapter.id).toBe('anthropic');
    expect(anthropicAdapter.baseUrl).toEqual({ mode: 'default', default: 'https://api.anthropic.com' });
    expect(anthropicAdapter.openaiCompatible).toBe(false);
    expect(anthropicAdapter.buildEmbeddingsRequest).toBeUndefined();
    expect(anthropicAdapter.parseEmbeddingsResponse).toBeUndefined();
  });
});

describe('buildChatRequest', () => {
  it('posts to /v1/messages with Anthropic auth headers and the upstream model', () => {
    const http = buildChatRequest({ model: 'alias', messages: [{ role: 'user', content: 'Hello' }] }, target);
    expect(http.method).toBe('POST');
    expect(http.url).toBe('https://api.anthropic.com/v1/messages');
    expect(http.headers).toEqual({
      'x-api-key': 'sk-ant-test-key',
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      'anthropic-beta': 'prompt-caching-2024-07-31',
    });
    expect(JSON.parse(http.body ?? '')).toEqual({
      model: 'claude-sonnet-4-20250514',
      max_tokens: DEFAULT_MAX_TOKENS,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
  });

  it('does not double the /v1 segment when the base URL already has it', () => {
    const http = buildChatRequest(
      { model: 'm', messages: [{ role: 'user', content: 'x' }] },
      { ...target, baseUrl: 'https://proxy.example/v1/' },
    );
    expect(http.url).toBe('https://proxy.example/v1/messages');
  });
});

describe('toAnthropicRequestBody', () => {
  it('hoists system and developer messages to the top-level system prompt', () => {
    const single = body({
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(single.system).toBe('Be terse.');
    expect(single.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);

    const several = body({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Rule one.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'developer', content: 'Rule two.' },
      ],
    });
    expect(several.system).toEqual([
      { type: 'text', text: 'Rule one.' },
      { type: 'text', text: 'Rule two.' },
    ]);
  });

  it('maps data-URL images to base64 sources and http URLs to url sources', () => {
    const result = body({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          ],
        },
      ],
    });
    expect(result.messages[0]?.content).toEqual([
      { type: 'text', text: 'Compare these' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('rejects content Anthropic cannot take', () => {
    expect(() =>
      body({
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }],
      }),
    ).toThrow(ApiError);
    expect(() =>
      body({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }),
    ).toThrow(/http\(s\) URLs or base64 data URLs/);
    expect(() => body({ n: 2 })).toThrow(/n must be 1/);
  });

  it('maps tools, tool calls and tool results into one user turn with results first', () => {
    const result = body({
      messages: [
        { role: 'user', content: 'Weather in Paris and Tokyo?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{not json' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '15C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '22C' }] },
        { role: 'user', content: 'Thanks! Which is warmer?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Get weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
        { type: 'function', function: { name: 'now' } },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    expect(result.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Get weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
      { name: 'now', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(result.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(result.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Tokyo?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '15C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '22C' }] },
          { type: 'text', text: 'Thanks! Which is warmer?' },
        ],
      },
    ]);
  });

  it('maps every tool_choice form', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'f' } }];
    expect(body({ tools, tool_choice: 'auto' }).tool_choice).toEqual({ type: 'auto' });
    expect(body({ tools, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(body({ tools, tool_choice: { type: 'function', function: { name: 'f' } } }).tool_choice).toEqual({
      type: 'tool',
      name: 'f',
    });
    expect(body({ tools }).tool_choice).toBeUndefined();
    expect(body({ tool_choice: 'auto' }).tool_choice).toBeUndefined();
  });

  it('merges consecutive same-role turns and drops empty assistant turns', () => {
    const result = body({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        { role: 'assistant', content: '' },
        { role: 'assistant', content: 'three' },
        { role: 'user', content: 'four' },
      ],
    });
    expect(result.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'three' }] },
      { role: 'user', content: [{ type: 'text', text: 'four' }] },
    ]);
  });

  it('maps sampling, stop, user and stream fields', () => {
    const result = body({
      temperature: 1.7,
      top_p: 0.9,
      stop: ['END', '  '],
      user: 'user-42',
      stream: true,
      max_tokens: 300,
    });
    expect(result).toMatchObject({
      temperature: 1,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-42' },
      stream: true,
      max_tokens: 300,
    });
    expect(body({ stop: 'STOP' }).stop_sequences).toEqual(['STOP']);
    expect(body({ max_completion_tokens: 100, max_tokens: 900 }).max_tokens).toBe(100);
  });

  it('turns reasoning_effort into a thinking budget below max_tokens', () => {
    const medium = body({ reasoning_effort: 'medium', temperature: 0.2 });
    expect(medium.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
    expect(medium.max_tokens).toBe(8192 + DEFAULT_MAX_TOKENS);
    expect(medium.temperature).toBeUndefined();

    expect(body({ reasoning_effort: 'high', max_completion_tokens: 5000 }).thinking).toEqual({
      type: 'enabled',
      budget_tokens: 4999,
    });
    expect(body({ reasoning_effort: 'high', max_completion_tokens: 1000 }).thinking).toBeUndefined();
    expect(body({ reasoning_effort: 'none' }).thinking).toBeUndefined();
    // Forced tool use and thinking cannot be combined; the tool contract wins.
    expect(
      body({ reasoning_effort: 'low', tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required' })
        .thinking,
    ).toBeUndefined();
    expect(body({ thinking: { type: 'enabled', budget_tokens: 3000 } }).thinking).toEqual({
      type: 'enabled',
      budget_tokens: 3000,
    });
  });

  it('leaves thinking off when continuing a turn whose signed thinking blocks the client could not keep', () => {
    const toolLoop = body({
      reasoning_effort: 'high',
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'w', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '15C' },
      ],
    });
    expect(toolLoop.thinking).toBeUndefined();
    expect(toolLoop.max_tokens).toBe(DEFAULT_MAX_TOKENS);
    const prefill = body({
      reasoning_effort: 'high',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Well,' },
      ],
    });
    expect(prefill.thinking).toBeUndefined();
  });

  it('maps json_schema response_format to output_config.format', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    expect(
      body({ response_format: { type: 'json_schema', json_schema: { name: 'a', schema } } }).output_config,
    ).toEqual({
      format: { type: 'json_schema', schema },
    });
    expect(body({ response_format: { type: 'json_object' } }).output_config).toBeUndefined();
  });
});
