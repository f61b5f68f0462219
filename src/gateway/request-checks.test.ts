import { describe, expect, it } from 'vitest';
import { ApiError } from '../core/errors.js';
import { checkAnthropicMessages, checkOpenAiChat, checkOpenAiEmbeddings } from './request-checks.js';

function refusal(check: () => void): { param: string | undefined; message: string } {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const e = error as ApiError;
    expect(e).toMatchObject({ status: 400, code: 'validation_failed' });
    return { param: e.param, message: e.message };
  }
  throw new Error('expected a refusal');
}

const user = { role: 'user', content: 'Hi' };

describe('checkOpenAiChat', () => {
  it('accepts what OpenAI accepts: nulls, integers for decimals, unknown fields, tool turns, content parts', () => {
    checkOpenAiChat({
      model: 'm',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be brief' }] },
        user,
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
      temperature: 1,
      top_p: 0.5,
      max_tokens: null,
      stop: ['END'],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: 'auto',
      vendor_field: { anything: [1, 'x'] },
    });
  });

  it.each([
    [{ model: 'm' }, 'messages', "Missing required parameter: 'messages'."],
    [
      { model: 5, messages: [user] },
      'model',
      "Invalid type for 'model': expected a string, but got an integer instead.",
    ],
    [{ model: 'm', messages: [5] }, 'messages[0]', "Invalid type for 'messages[0]': expected an object"],
    [
      { model: 'm', messages: [{ content: 'x' }] },
      'messages[0].role',
      "Missing required parameter: 'messages[0].role'.",
    ],
    [{ model: 'm', messages: [{ role: 'user', content: [null] }] }, 'messages[0].content[0]', 'but got null instead.'],
    [
      { model: 'm', messages: [user, { role: 'assistant', tool_calls: [{ id: 'x' }] }] },
      'messages[1].tool_calls[0].function',
      "Missing required parameter: 'messages[1].tool_calls[0].function'.",
    ],
    [{ model: 'm', messages: [user], n: 2.5 }, 'n', 'expected an integer, but got a decimal instead.'],
    [{ model: 'm', messages: [user], tool_choice: 5 }, 'tool_choice', 'expected a string or an object'],
    [{ model: 'm', messages: [user], tools: [{ type: 'function' }] }, 'tools[0].function', 'Missing required'],
  ])('%j → 400 naming %s', (body, param, message) => {
    const found = refusal(() => checkOpenAiChat(body));
    expect(found.param).toBe(param);
    expect(found.message).toContain(message);
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of [null, undefined, [], 'text'])
      expect(refusal(() => checkOpenAiChat(body)).param).toBeUndefined();
  });
});

describe('checkOpenAiEmbeddings', () => {
  it('accepts a string, strings, token ids and arrays of token ids', () => {
    for (const input of ['a', ['a', 'b'], [1, 2], [[1, 2], [3]]]) checkOpenAiEmbeddings({ model: 'm', input });
  });

  it.each([
    [{ model: 'm', input: [] }, 'input'],
    [{ model: 'm', input: ['a', 1] }, 'input[1]'],
    [{ model: 'm', input: [[1, 'a']] }, 'input[0][1]'],
    [{ model: 'm', input: 5 }, 'input'],
    [{ model: 'm', input: 'a', encoding_format: 1 }, 'encoding_format'],
  ])('%j → 400 naming %s', (body, param) => {
    expect(refusal(() => checkOpenAiEmbeddings(body)).param).toBe(param);
  });
});

describe('checkAnthropicMessages', () => {
  const base = { model: 'c', max_tokens: 10, messages: [user] };

  it('accepts content blocks, a system array, nulls and unknown fields', () => {
    checkAnthropicMessages({
      ...base,
      system: [{ type: 'text', text: 'x' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      top_k: null,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      extra: 1,
    });
  });

  it.each([
    [{ ...base, max_tokens: undefined }, 'max_tokens: Field required'],
    [{ ...base, max_tokens: 0 }, 'max_tokens: Input should be greater than or equal to 1'],
    [{ ...base, top_k: 1.5 }, 'top_k: Input should be a valid integer'],
    [
      { ...base, messages: [{ role: 'user', content: [1] }] },
      'messages.0.content.0: Input should be a valid dictionary',
    ],
    [{ ...base, messages: [{ role: 'user' }] }, 'messages.0.content: Field required'],
    [{ ...base, stop_sequences: ['a', 2] }, 'stop_sequences.1: Input should be a valid string'],
    [{ ...base, messages: [] }, 'messages: List should have at least 1 item'],
  ])('%j → %s', (body, message) => {
    expect(refusal(() => checkAnthropicMessages(body)).message).toContain(message);
  });
});
