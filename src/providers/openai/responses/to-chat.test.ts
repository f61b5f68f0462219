import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../core/errors.js';
import { inputItems, isOpenAiOnly, responsesToChat } from './to-chat.js';

describe('responsesToChat', () => {
  it('makes a string input one user message, instructions the system message, and maps the settings', () => {
    const chat = responsesToChat({
      model: 'm',
      instructions: 'Be brief.',
      input: 'Hi',
      max_output_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      reasoning: { effort: 'low', summary: 'auto' },
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: true }],
      metadata: { a: 'b' },
      stream: true,
    });
    expect(chat).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_completion_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      reasoning_effort: 'low',
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' }, strict: true } }],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('turns items into messages: parts, images, function calls joined to one assistant turn, their outputs', () => {
    const chat = responsesToChat({
      model: 'm',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Think.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'look', arguments: '{"a":1}' },
        { type: 'function_call', call_id: 'call_2', name: 'look', arguments: '{"a":2}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'one' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'two' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Done.' }] },
      ],
    });
    expect(chat.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'Think.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"a":1}' } },
          { id: 'call_2', type: 'function', function: { name: 'look', arguments: '{"a":2}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'one' },
      { role: 'tool', tool_call_id: 'call_2', content: 'two' },
      { role: 'assistant', content: 'Done.' },
    ]);
  });

  it('puts the rebuilt history before the input', () => {
    const chat = responsesToChat({ model: 'm', input: 'and now?' }, [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'before' }] },
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'ok' }],
      },
    ]);
    expect(chat.messages).toEqual([
      { role: 'user', content: 'before' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'and now?' },
    ]);
  });

  it('refuses what only OpenAI runs, naming the field', () => {
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('no refusal');
    };
    const hosted = refusal(() => responsesToChat({ model: 'm', input: 'x', tools: [{ type: 'web_search_preview' }] }));
    expect(hosted).toBeInstanceOf(ApiError);
    expect(isOpenAiOnly(hosted)).toBe(true);
    expect(isOpenAiOnly(refusal(() => responsesToChat({ model: 'm' })))).toBe(false);
    expect(hosted).toMatchObject({ status: 400, param: 'tools[0].type' });
    expect((hosted as Error).message).toContain('web_search_preview');
    expect(
      refusal(() =>
        responsesToChat({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }),
      ),
    ).toMatchObject({ status: 400, param: 'input[0].content[0]' });
    expect(refusal(() => responsesToChat({ model: 'm', input: [{ type: 'item_reference', id: 'x' }] }))).toMatchObject({
      param: 'input[0].type',
    });
    expect(refusal(() => responsesToChat({ model: 'm', input: [{ role: 'robot', content: 'x' }] }))).toMatchObject({
      param: 'input[0].role',
    });
    expect(refusal(() => responsesToChat({ model: 'm' }))).toMatchObject({ param: 'input' });
  });

  it('lists a string input as one message item', () => {
    expect(inputItems('hi')).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
    ]);
    expect(inputItems(undefined)).toEqual([]);
  });
});
