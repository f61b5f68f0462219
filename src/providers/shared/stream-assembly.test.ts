import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../types.js';
import { chunksToSseText, parseSseText } from './sse-text.js';
import { assembleChunks } from './stream-assembly.js';

const base = { id: 'c1', object: 'chat.completion.chunk' as const, created: 1, model: 'm' };

describe('parseSseText', () => {
  it('splits on blank lines of any newline style, joins multi-line data and skips comments', () => {
    const events = parseSseText(': keep-alive\n\nevent: error\ndata: {"a":\ndata: 1}\r\n\r\ndata: [DONE]\r\r');
    expect(events).toEqual([{ event: 'error', data: '{"a":\n1}' }, { data: '[DONE]' }]);
  });

  it('round-trips chunks serialised as SSE', () => {
    const chunk: ChatCompletionChunk = {
      ...base,
      choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }],
    };
    expect(parseSseText(chunksToSseText([chunk]))).toEqual([{ data: JSON.stringify(chunk) }, { data: '[DONE]' }]);
  });
});

describe('assembleChunks', () => {
  it('accumulates content, reasoning and interleaved tool-call fragments by index', () => {
    const chunks: ChatCompletionChunk[] = [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'th' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { reasoning_content: 'ink' }, finish_reason: null }] },
      {
        ...base,
        choices: [
          {
            index: 0,
            delta: {
              tool_calls: [
                { index: 0, id: 'call-a', type: 'function', function: { name: 'look', arguments: '{"value":' } },
                { index: 1, id: 'call-b', type: 'function', function: { name: 'lookup', arguments: '{"value":' } },
              ],
            },
            finish_reason: null,
          },
        ],
      },
      {
        ...base,
        choices: [
          {
            index: 0,
            delta: {
              tool_calls: [
                { index: 1, function: { arguments: '2}' } },
                { index: 0, function: { name: 'up', arguments: '1}' } },
              ],
            },
            finish_reason: null,
          },
        ],
      },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      { ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 } },
    ];
    const completion = assembleChunks(chunks);
    expect(completion.choices[0]?.message).toEqual({
      role: 'assistant',
      content: null,
      reasoning_content: 'think',
      tool_calls: [
        { id: 'call-a', type: 'function', function: { name: 'lookup', arguments: '{"value":1}' } },
        { id: 'call-b', type: 'function', function: { name: 'lookup', arguments: '{"value":2}' } },
      ],
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.usage?.total_tokens).toBe(20);
  });
});
