import { describe, expect, it } from 'vitest';
import { fromBase64Float32 } from '../shared/base64-float.js';
import { isInProcessAdapter } from '../shared/in-process.js';
import { assembleChunks } from '../shared/stream-assembly.js';
import type { ChatRequest } from '../types.js';
import {
  estimateMockTokens,
  mockAdapter,
  mockChatChunks,
  mockChatCompletion,
  mockEmbedding,
  truncateToTokens,
} from './index.js';

const ids = { id: 'chatcmpl-mock-1', created: 1700000000 };
const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'mock-1',
  messages: [{ role: 'user', content }],
  ...extra,
});
const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' }, unit: { enum: ['c', 'f'] } },
    },
  },
};

describe('mock chat', () => {
  it('answers deterministically from the last user message', () => {
    const first = mockChatCompletion(ask('What is the capital of France?'), ids);
    expect(first.choices[0]?.message.content).toMatch(
      /^This is a mock response to: What is the capital of France\?\. /,
    );
    expect(mockChatCompletion(ask('What is the capital of France?'), ids)).toEqual(first);
    expect(first).toMatchObject({
      id: 'chatcmpl-mock-1',
      created: 1700000000,
      model: 'mock-1',
      object: 'chat.completion',
    });
    expect(first.choices[0]?.finish_reason).toBe('stop');
  });

  it('quotes only the first 60 characters of a long message', () => {
    const content = mockChatCompletion(ask('x'.repeat(100)), ids).choices[0]?.message.content ?? '';
    expect(content).toContain(`${'x'.repeat(60)}…`);
    expect(content).not.toContain('x'.repeat(61));
  });

  it('computes usage with the documented estimate (ceil(word length / 4), 4 per message)', () => {
    expect(estimateMockTokens('This is a mock')).toBe(4);
    expect(estimateMockTokens('  tokenisation ')).toBe(3);
    const completion = mockChatCompletion(ask('hello world'), ids);
    expect(completion.usage?.prompt_tokens).toBe(4 + 2 + 2);
    expect(completion.usage?.completion_tokens).toBe(estimateMockTokens(completion.choices[0]?.message.content ?? ''));
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
  });

  it('truncates to max_tokens and finishes with length', () => {
    const completion = mockChatCompletion(ask('Tell me a story', { max_tokens: 5 }), ids);
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBeLessThanOrEqual(5);
    expect(completion.choices[0]?.message.content).toBe(
      truncateToTokens(mockChatCompletion(ask('Tell me a story'), ids).choices[0]?.message.content ?? '', 5).text,
    );
  });

  it('adds reasoning for reasoning models or reasoning_effort, counted as reasoning tokens', () => {
    const byName = mockChatCompletion({ ...ask('why?'), model: 'mock-reasoner' }, ids);
    expect(byName.choices[0]?.message.reasoning_content).toMatch(/^The user asked: why\?/);
    expect(byName.usage?.completion_tokens_details?.reasoning_tokens).toBe(
      estimateMockTokens(byName.choices[0]?.message.reasoning_content ?? ''),
    );
    expect(
      mockChatCompletion(ask('why?', { reasoning_effort: 'high' }), ids).choices[0]?.message.reasoning_content,
    ).toBeDefined();
    expect(mockChatCompletion(ask('why?', { reasoning_effort: 'none' }), ids).choices[0]?.message).not.toHaveProperty(
      'reasoning_content',
    );
  });

  it('calls a tool when forced or when the user names it, with schema-shaped arguments', () => {
    const forced = mockChatCompletion(ask('hi', { tools: [weather], tool_choice: 'required' }), ids);
    expect(forced.choices[0]?.finish_reason).toBe('tool_calls');
    expect(forced.choices[0]?.message.content).toBeNull();
    const call = forced.choices[0]?.message.tool_calls?.[0];
    expect(call?.function.name).toBe('get_weather');
    expect(JSON.parse(call?.function.arguments ?? '')).toEqual({ city: 'mock', days: 1, unit: 'c' });
    expect(call?.id).toMatch(/^call_mock_/);
    expect(
      mockChatCompletion(ask('please use get_weather for Paris', { tools: [weather] }), ids).choices[0]?.finish_reason,
    ).toBe('tool_calls');
    expect(mockChatCompletion(ask('just chat', { tools: [weather] }), ids).choices[0]?.finish_reason).toBe('stop');
    expect(
      mockChatCompletion(ask('use get_weather', { tools: [weather], tool_choice: 'none' }), ids).choices[0]
        ?.finish_reason,
    ).toBe('stop');
  });

  it('answers a tool result instead of calling the tool again', () => {
    const request: ChatRequest = {
      model: 'mock-1',
      tools: [weather],
      tool_choice: 'required',
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '15C and sunny' },
      ],
    };
    const completion = mockChatCompletion(request, ids);
    expect(completion.choices[0]?.message.content).toMatch(/^The tool returned: 15C and sunny\./);
  });

  it('returns n identical choices', () => {
    const completion = mockChatCompletion(ask('hi', { n: 3 }), ids);
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(completion.usage?.completion_tokens).toBe(
      3 * estimateMockTokens(completion.choices[0]?.message.content ?? ''),
    );
  });
});

describe('mock stream', () => {
  it.each([
    ['text', ask('Explain streams')],
    ['reasoning', { ...ask('Explain streams'), model: 'mock-reason' }],
    [
      'tool call',
      ask('hi', { tools: [weather], tool_choice: { type: 'function', function: { name: 'get_weather' } } }),
    ],
    ['truncated', ask('Explain streams', { max_completion_tokens: 7, reasoning_effort: 'low' })],
  ])('reassembles into the non-stream answer (%s)', (_name, request) => {
    const chunks = mockChatChunks(request, ids);
    const assembled = assembleChunks(chunks);
    const whole = mockChatCompletion(request, ids);
    expect(assembled.choices).toEqual(whole.choices);
    expect(assembled.usage).toEqual(whole.usage);
  });

  it('starts with a role chunk, ends with a usage chunk, and sends words as separate deltas', () => {
    const chunks = mockChatChunks(ask('hi'), ids);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks[chunks.length - 1]?.choices).toEqual([]);
    expect(chunks[chunks.length - 1]?.usage).toBeDefined();
    expect(chunks[1]?.choices[0]?.delta.content).toBe('This');
    expect(chunks.every((chunk) => chunk.id === ids.id && chunk.object === 'chat.completion.chunk')).toBe(true);
  });

  it('streams tool arguments in fragments after a first fragment with id and name', () => {
    const chunks = mockChatChunks(ask('hi', { tools: [weather], tool_choice: 'required' }), ids);
    const fragments = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? []));
    expect(fragments[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(fragments.length).toBeGreaterThan(2);
  });
});

describe('mock embeddings and adapter', () => {
  it('returns deterministic unit vectors of the requested size', () => {
    const a = mockEmbedding({ model: 'mock-embed', input: ['hello', 'world'] });
    expect(a.data).toHaveLength(2);
    const first = a.data[0]?.embedding as number[];
    expect(first).toHaveLength(8);
    expect(mockEmbedding({ model: 'mock-embed', input: ['hello', 'world'] })).toEqual(a);
    expect(a.data[0]?.embedding).not.toEqual(a.data[1]?.embedding);
    const norm = Math.hypot(...first);
    expect(norm).toBeCloseTo(1, 10);
    expect(mockEmbedding({ model: 'm', input: 'x', dimensions: 3 }).data[0]?.embedding).toHaveLength(3);
    const encoded = mockEmbedding({ model: 'm', input: 'hello', encoding_format: 'base64' }).data[0];
    expect(fromBase64Float32(encoded?.embedding as string)[0]).toBeCloseTo(first[0] ?? 0, 6);
    expect(a.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
  });

  it('is served in-process: HTTP building throws, inProcess serves', () => {
    expect(isInProcessAdapter(mockAdapter)).toBe(true);
    expect(() =>
      mockAdapter.buildChatRequest(ask('hi'), {
        baseUrl: '',
        apiKey: '',
        upstreamModel: 'm',
        headers: {},
        options: {},
      }),
    ).toThrow('mock is served in-process');
    expect(mockAdapter.inProcess.chat(ask('hi'), ids)).toEqual(mockChatCompletion(ask('hi'), ids));
    expect(
      mockAdapter.parseChatResponse(mockChatCompletion(ask('hi'), ids), ask('hi')).choices[0]?.message.content,
    ).toMatch(/^This is a mock/);
  });
});
