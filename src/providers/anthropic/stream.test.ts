import { describe, expect, it } from 'vitest';
import { readSseFixture } from '../../../test/fixtures/anthropic/load.js';
import type { ChatCompletionChunk, ChatRequest, SseEvent } from '../types.js';
import { UpstreamStreamError } from './errors.js';
import { createStreamTranslator } from './stream.js';

const request: ChatRequest = { model: 'claude-sonnet', messages: [{ role: 'user', content: 'Hi' }], stream: true };
const ids = { id: 'chatcmpl-abc', created: 1727346182 };

function translate(events: SseEvent[]): ChatCompletionChunk[] {
  const translator = createStreamTranslator(request, ids);
  return [...events.flatMap((event) => translator.push(event)), ...translator.end()];
}

/** Reassembles chunks the way an OpenAI client does (tool calls accumulated by index). */
function reassemble(chunks: ChatCompletionChunk[]) {
  let content = '';
  let reasoning = '';
  const tools: Array<{ id: string; name: string; arguments: string }> = [];
  let finishReason: string | null = null;
  for (const chunk of chunks) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    reasoning += choice.delta.reasoning_content ?? '';
    for (const call of choice.delta.tool_calls ?? []) {
      const tool = tools[call.index] ?? { id: '', name: '', arguments: '' };
      tools[call.index] = tool;
      if (call.id) tool.id = call.id;
      if (call.function?.name) tool.name = call.function.name;
      tool.arguments += call.function?.arguments ?? '';
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  return { content, reasoning, tools, finishReason };
}

describe('createStreamTranslator', () => {
  it('translates the recorded text stream chunk by chunk', () => {
    const chunks = translate(readSseFixture('stream-text.sse'));
    const base = {
      id: 'chatcmpl-abc',
      object: 'chat.completion.chunk',
      created: 1727346182,
      model: 'claude-3-opus-latest',
    };
    expect(chunks).toEqual([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: 'Hello' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: ' there' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: '!' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      {
        ...base,
        choices: [],
        usage: {
          prompt_tokens: 11,
          completion_tokens: 6,
          total_tokens: 17,
          prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
        },
      },
    ]);
  });

  it('streams tool calls with index counting tool calls only, and arguments that reassemble to the input', () => {
    const chunks = translate(readSseFixture('stream-tool-use.sse'));
    const toolChunks = chunks.filter((chunk) => chunk.choices[0]?.delta.tool_calls);
    // First fragment: index, id, type, name and empty arguments — as OpenAI sends it.
    expect(toolChunks[0]?.choices[0]?.delta.tool_calls).toEqual([
      {
        index: 0,
        id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      },
    ]);
    // Later fragments carry only index and argument pieces (the empty first partial_json is skipped).
    expect(toolChunks.slice(1).map((chunk) => chunk.choices[0]?.delta.tool_calls)).toEqual([
      [{ index: 0, function: { arguments: '{"locati' } }],
      [{ index: 0, function: { arguments: 'on": "P' } }],
      [{ index: 0, function: { arguments: 'ar' } }],
      [{ index: 0, function: { arguments: 'is"}' } }],
    ]);
    const result = reassemble(chunks);
    expect(result.content).toBe("I'll check the current weather in Paris for you.");
    expect(result.tools).toHaveLength(1);
    expect(JSON.parse(result.tools[0]?.arguments ?? '')).toEqual({ location: 'Paris' });
    expect(result.finishReason).toBe('tool_calls');
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 377, completion_tokens: 65, total_tokens: 442 });
  });

  it('streams reasoning, text and two parallel tool calls with cache-aware usage', () => {
    const chunks = translate(readSseFixture('stream-thinking-tools.sse'));
    const result = reassemble(chunks);
    expect(result.reasoning).toBe(
      'The user wants the weather in two cities. I should call get_weather for Paris and for Tokyo.',
    );
    expect(result.content).toBe('Let me look up both cities.');
    expect(
      result.tools.map((tool) => ({ id: tool.id, name: tool.name, input: JSON.parse(tool.arguments) as unknown })),
    ).toEqual([
      { id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
      { id: 'toolu_01B7m3x8Zk2q4Yw6Rt9Pv5Ls', name: 'get_weather', input: { city: 'Tokyo', unit: 'celsius' } },
    ]);
    expect(result.finishReason).toBe('tool_calls');
    // The signature has no OpenAI field and must not leak into content.
    expect(JSON.stringify(chunks)).not.toContain('EqQBCgIYAhIM');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 412 + 1024 + 2048,
        completion_tokens: 187,
        total_tokens: 412 + 1024 + 2048 + 187,
        prompt_tokens_details: { cached_tokens: 2048, cache_write_tokens: 1024 },
        completion_tokens_details: { reasoning_tokens: 41 },
      },
    });
  });

  it('maps a refusal to content_filter', () => {
    const result = reassemble(translate(readSseFixture('stream-refusal.sse')));
    expect(result.finishReason).toBe('content_filter');
    expect(result.content).toBe('');
  });

  it('throws UpstreamStreamError with retryable info on a mid-stream error event', () => {
    const translator = createStreamTranslator(request, ids);
    const events = readSseFixture('stream-error-overloaded.sse');
    const errorEvent = events.at(-1);
    const emitted = events.slice(0, -1).flatMap((event) => translator.push(event));
    expect(reassemble(emitted).content).toBe('Once upon');
    let caught: unknown;
    try {
      translator.push(errorEvent ?? { data: '' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UpstreamStreamError);
    expect((caught as UpstreamStreamError).info).toEqual({
      status: 502,
      code: 'upstream_error',
      message: 'Overloaded',
      retryable: true,
    });
    // Nothing more is owed after an error: no fake finish chunk.
    expect(translator.end()).toEqual([]);
  });

  it('owes a finish chunk when the stream is cut before message_stop, but no usage chunk: the output count never came', () => {
    const events = readSseFixture('stream-text.sse').filter(
      (event) => event.event !== 'message_stop' && event.event !== 'message_delta',
    );
    const translator = createStreamTranslator(request, ids);
    const chunks = [...events.flatMap((event) => translator.push(event)), ...translator.end()];
    expect(chunks.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    // message_start's input count is final; its output_tokens (1) is a placeholder and is not reported.
    expect(translator.reported?.()).toEqual({ prompt: 11, cached: 0 });
  });

  it('reports message_start usage (input, cache read and cache creation) for a stream cut right after it', () => {
    const translator = createStreamTranslator(request, ids);
    const [start, ...rest] = readSseFixture('stream-thinking-redacted-tool-use.sse');
    expect(translator.reported?.()).toEqual({});
    if (start) translator.push(start);
    expect(translator.reported?.()).toEqual({ prompt: 20 + 8 + 0, cached: 8 });
    for (const event of rest) translator.push(event);
    expect(translator.reported?.()).toEqual({ prompt: 28, cached: 8, completion: 96, reasoning: 30 });
  });

  it('emits a tool input sent whole in content_block_start', () => {
    const events: SseEvent[] = [
      {
        event: 'message_start',
        data: JSON.stringify({
          type: 'message_start',
          message: { model: 'm', usage: { input_tokens: 3, output_tokens: 1 } },
        }),
      },
      {
        event: 'content_block_start',
        data: JSON.stringify({
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
        }),
      },
      { event: 'content_block_stop', data: JSON.stringify({ type: 'content_block_stop', index: 0 }) },
      {
        event: 'message_delta',
        data: JSON.stringify({
          type: 'message_delta',
          delta: { stop_reason: 'tool_use' },
          usage: { output_tokens: 9 },
        }),
      },
      { event: 'message_stop', data: JSON.stringify({ type: 'message_stop' }) },
    ];
    const result = reassemble(translate(events));
    expect(result.tools).toEqual([{ id: 'toolu_1', name: 'f', arguments: '{"a":1}' }]);
  });

  it('rejects a non-JSON event', () => {
    const translator = createStreamTranslator(request, ids);
    expect(() => translator.push({ event: 'content_block_delta', data: '{oops' })).toThrow(UpstreamStreamError);
  });
});
