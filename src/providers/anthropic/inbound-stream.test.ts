import { describe, expect, it } from 'vitest';
import { parseSseText, readSseFixture } from '../../../test/fixtures/anthropic/load.js';
import type { ChatCompletionChunk, ChatRequest } from '../types.js';
import { createAnthropicStreamEncoder } from './inbound-stream.js';
import { createStreamTranslator } from './stream.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

const chunk = (
  delta: Delta,
  finishReason: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
): ChatCompletionChunk => ({
  id: 'chatcmpl-xyz',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o',
  choices: [{ index: 0, delta, finish_reason: finishReason }],
});
const usageChunk: ChatCompletionChunk = {
  id: 'chatcmpl-xyz',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o',
  choices: [],
  usage: { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62, prompt_tokens_details: { cached_tokens: 20 } },
};

function encode(chunks: ChatCompletionChunk[]): string {
  const encoder = createAnthropicStreamEncoder('claude-sonnet-4', { id: 'chatcmpl-xyz' });
  return chunks.map((item) => encoder.push(item)).join('') + encoder.end();
}

/** Event names plus the index and delta type, compact enough to compare whole sequences. */
function outline(text: string): string[] {
  return parseSseText(text).map(({ event, data }) => {
    const delta = data.delta as Record<string, unknown> | undefined;
    const block = data.content_block as Record<string, unknown> | undefined;
    if (event === 'content_block_start') return `${event} ${String(data.index)} ${String(block?.type)}`;
    if (event === 'content_block_delta') return `${event} ${String(data.index)} ${String(delta?.type)}`;
    if (event === 'content_block_stop') return `${event} ${String(data.index)}`;
    if (event === 'message_delta') return `${event} ${String(delta?.stop_reason)}`;
    return String(event);
  });
}

describe('createAnthropicStreamEncoder', () => {
  it('encodes a text-only stream in the exact Anthropic sequence and wire format', () => {
    const text = encode([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hello' }),
      chunk({ content: ' there' }),
      chunk({}, 'stop'),
      usageChunk,
    ]);
    expect(text.startsWith('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_xyz"')).toBe(true);
    expect(text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
    const events = parseSseText(text);
    expect(events.map((event) => event.data)).toEqual([
      {
        type: 'message_start',
        message: {
          id: 'msg_xyz',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' there' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { input_tokens: 30, output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 20 },
      },
      { type: 'message_stop' },
    ]);
    expect(events.every((event) => event.event === event.data.type)).toBe(true);
  });

  it('opens a new block when the content kind changes from thinking to text', () => {
    const text = encode([
      chunk({ role: 'assistant', reasoning_content: 'Let me think' }),
      chunk({ reasoning_content: ' harder.' }),
      chunk({ content: 'Answer: 4' }),
      chunk({}, 'stop'),
    ]);
    expect(outline(text)).toEqual([
      'message_start',
      'content_block_start 0 thinking',
      'content_block_delta 0 thinking_delta',
      'content_block_delta 0 thinking_delta',
      'content_block_stop 0',
      'content_block_start 1 text',
      'content_block_delta 1 text_delta',
      'content_block_stop 1',
      'message_delta end_turn',
      'message_stop',
    ]);
    const start = parseSseText(text)[1]?.data;
    expect(start).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    });
  });

  it('encodes tool calls as tool_use blocks with input_json_delta and stop_reason tool_use', () => {
    const text = encode([
      chunk({ role: 'assistant', content: 'Checking.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({
        tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }],
      }),
      chunk({}, 'tool_calls'),
      usageChunk,
    ]);
    expect(outline(text)).toEqual([
      'message_start',
      'content_block_start 0 text',
      'content_block_delta 0 text_delta',
      'content_block_stop 0',
      'content_block_start 1 tool_use',
      'content_block_delta 1 input_json_delta',
      'content_block_delta 1 input_json_delta',
      'content_block_stop 1',
      'content_block_start 2 tool_use',
      'content_block_delta 2 input_json_delta',
      'content_block_stop 2',
      'message_delta tool_use',
      'message_stop',
    ]);
    const events = parseSseText(text).map((event) => event.data);
    expect(events[4]).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} },
    });
    const json = events
      .filter((event) => event.index === 1 && event.type === 'content_block_delta')
      .map((event) => (event.delta as { partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ city: 'Paris' });
  });

  it('still produces a valid sequence when the stream ends without a finish chunk', () => {
    const encoder = createAnthropicStreamEncoder('claude-sonnet-4', { id: 'chatcmpl-cut' });
    const text = encoder.push(chunk({ content: 'Partial' })) + encoder.end();
    expect(outline(text)).toEqual([
      'message_start',
      'content_block_start 0 text',
      'content_block_delta 0 text_delta',
      'content_block_stop 0',
      'message_delta end_turn',
      'message_stop',
    ]);
    expect(parseSseText(text).at(-2)?.data.usage).toEqual({ output_tokens: 0 });
    expect(encoder.end()).toBe('');
  });

  it('produces a complete empty message when nothing arrived', () => {
    const encoder = createAnthropicStreamEncoder('m', { id: 'msg_given' });
    expect(outline(encoder.end({ prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 }))).toEqual([
      'message_start',
      'message_delta end_turn',
      'message_stop',
    ]);
  });

  it('emits an Anthropic error event mid-stream and nothing afterwards', () => {
    const encoder = createAnthropicStreamEncoder('m', { id: 'chatcmpl-err' });
    const before = encoder.push(chunk({ content: 'Once' }));
    const failure = encoder.error({ status: 502, code: 'upstream_error', message: 'Upstream failed' });
    expect(outline(before)).toEqual([
      'message_start',
      'content_block_start 0 text',
      'content_block_delta 0 text_delta',
    ]);
    expect(failure).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Upstream failed"}}\n\n',
    );
    expect(encoder.push(chunk({ content: 'more' }))).toBe('');
    expect(encoder.end()).toBe('');
  });

  it('re-encodes a translated upstream Anthropic stream into the same block structure', () => {
    const request: ChatRequest = { model: 'claude-sonnet', messages: [{ role: 'user', content: 'Hi' }] };
    const translator = createStreamTranslator(request, { id: 'chatcmpl-rt', created: 1 });
    const chunks = [
      ...readSseFixture('stream-thinking-tools.sse').flatMap((event) => translator.push(event)),
      ...translator.end(),
    ];
    const text = encode(chunks);
    expect(
      outline(text).filter((line) => line.startsWith('content_block_start') || line.startsWith('message_delta')),
    ).toEqual([
      'content_block_start 0 thinking',
      'content_block_start 1 text',
      'content_block_start 2 tool_use',
      'content_block_start 3 tool_use',
      'message_delta tool_use',
    ]);
    const finalDelta = parseSseText(text).at(-2)?.data;
    expect(finalDelta?.usage).toEqual({
      input_tokens: 412,
      output_tokens: 187,
      cache_creation_input_tokens: 1024,
      cache_read_input_tokens: 2048,
    });
  });
});
