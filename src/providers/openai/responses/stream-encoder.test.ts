import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../types.js';
import { chatToResponse, fromResponsesUsage } from './from-chat.js';
import { ResponsesStreamEncoder } from './stream-encoder.js';
import type { ResponseObject } from './types.js';

const IDS = { id: 'resp_abc', createdAt: 1_700_000_000 };

function chunk(
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
): ChatCompletionChunk {
  return {
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'x',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** The events of an SSE text, each as its type and payload. */
function events(sse: string): Array<{ event: string; data: Record<string, unknown> }> {
  return sse
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      return {
        event: (eventLine ?? '').slice(7),
        data: JSON.parse((dataLine ?? '').slice(6)) as Record<string, unknown>,
      };
    });
}

describe('ResponsesStreamEncoder', () => {
  it('emits OpenAI’s event sequence for reasoning, text and a function call, numbered from 0', () => {
    const encoder = new ResponsesStreamEncoder({ model: 'public' }, IDS, 'public');
    let sse = encoder.push(chunk({ role: 'assistant', reasoning_content: 'Let me ' }));
    sse += encoder.push(chunk({ reasoning_content: 'think.' }));
    sse += encoder.push(chunk({ content: 'Hello' }));
    sse += encoder.push(chunk({ content: ' there' }));
    sse += encoder.push(
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }),
    );
    sse += encoder.push(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, 'tool_calls'));
    sse += encoder.end({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    const list = events(sse);
    expect(list.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    list.forEach((e, i) => {
      expect(e.data.type).toBe(e.event);
      expect(e.data.sequence_number).toBe(i);
    });
    expect(list[0]?.data.response).toMatchObject({
      id: 'resp_abc',
      status: 'in_progress',
      output: [],
      model: 'public',
    });
    expect(list[13]?.data).toMatchObject({ output_index: 1, content_index: 0, text: 'Hello there' });
    expect(list[19]?.data).toMatchObject({ output_index: 2, name: 'f', arguments: '{"a":1}' });
    const final = list.at(-1)?.data.response as ResponseObject;
    expect(final.status).toBe('completed');
    expect(final.output).toEqual([
      {
        id: expect.stringMatching(/^rs_/),
        type: 'reasoning',
        summary: [{ type: 'summary_text', text: 'Let me think.' }],
      },
      {
        id: expect.stringMatching(/^msg_/),
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello there' }],
      },
      {
        id: expect.stringMatching(/^fc_/),
        type: 'function_call',
        status: 'completed',
        arguments: '{"a":1}',
        call_id: 'call_1',
        name: 'f',
      },
    ]);
    expect(final.usage).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 15,
    });
  });

  it('ends a cut answer with response.incomplete and its reason', () => {
    const encoder = new ResponsesStreamEncoder({ model: 'm', max_output_tokens: 3 }, IDS, 'm');
    const sse = encoder.push(chunk({ content: 'abc' }, 'length')) + encoder.end(null);
    const last = events(sse).at(-1);
    expect(last?.event).toBe('response.incomplete');
    expect(last?.data.response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
  });

  it('reports a failure as response.failed, once', () => {
    const encoder = new ResponsesStreamEncoder({ model: 'm' }, IDS, 'm');
    const sse = encoder.push(chunk({ content: 'par' })) + encoder.error({ code: 'upstream_error', message: 'broke' });
    const last = events(sse).at(-1);
    expect(last?.event).toBe('response.failed');
    expect(last?.data.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'broke' } });
    expect(encoder.end(null)).toBe('');
  });

  it('replays a stored response as the same kind of sequence, its text in one delta', () => {
    const stored = chatToResponse(
      {
        id: 'c',
        object: 'chat.completion',
        created: 0,
        model: 'x',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      },
      { model: 'm' },
      IDS,
      'm',
    );
    const list = events(ResponsesStreamEncoder.replay(stored).join(''));
    expect(list.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(list[4]?.data.delta).toBe('Hi!');
    expect(list.at(-1)?.data.response).toEqual(stored);
  });
});

describe('usage', () => {
  it('reads a Responses usage as chat usage, and nothing from a malformed one', () => {
    expect(
      fromResponsesUsage({
        input_tokens: 36,
        input_tokens_details: { cached_tokens: 4 },
        output_tokens: 87,
        output_tokens_details: { reasoning_tokens: 7 },
        total_tokens: 123,
      }),
    ).toEqual({
      prompt_tokens: 36,
      completion_tokens: 87,
      total_tokens: 123,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 7 },
    });
    expect(fromResponsesUsage({ input_tokens: 'x' })).toBeUndefined();
    expect(fromResponsesUsage(null)).toBeUndefined();
  });
});
