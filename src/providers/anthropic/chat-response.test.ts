import { describe, expect, it } from 'vitest';
import { readJsonFixture } from '../../../test/fixtures/anthropic/load.js';
import { ApiError } from '../../core/errors.js';
import type { ChatRequest } from '../types.js';
import { parseChatResponse } from './chat-response.js';

const request: ChatRequest = { model: 'claude-sonnet', messages: [{ role: 'user', content: 'Weather in Paris?' }] };

describe('parseChatResponse', () => {
  it('maps thinking, text and tool_use blocks with cache-aware usage', () => {
    const completion = parseChatResponse(readJsonFixture('message-thinking-tool-use.json'), request, {
      id: 'chatcmpl-1',
      created: 1727346182,
    });
    expect(completion).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1727346182,
      model: 'claude-sonnet-4-20250514',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Let me check.',
            reasoning_content: 'The user asks about the weather in Paris. I should call get_weather.',
            tool_calls: [
              {
                id: 'toolu_01A09q90qw90lq917835lq9',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 377 + 2000 + 100,
        completion_tokens: 65,
        total_tokens: 377 + 2000 + 100 + 65,
        prompt_tokens_details: { cached_tokens: 2000, cache_write_tokens: 100 },
        completion_tokens_details: { reasoning_tokens: 40 },
      },
    });
  });

  it('joins text blocks, treats null cache counts as 0 and maps max_tokens to length', () => {
    const completion = parseChatResponse(readJsonFixture('message-text.json'), request);
    expect(completion.id).toBe('msg_013Zva2CMHLNnXjNJJKqJ2EF');
    expect(completion.choices[0]?.message).toEqual({ role: 'assistant', content: 'Hello there!' });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage).toEqual({
      prompt_tokens: 12,
      completion_tokens: 6,
      total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['refusal', 'content_filter'],
    ['model_context_window_exceeded', 'length'],
  ])('maps stop_reason %s to finish_reason %s', (stopReason, finishReason) => {
    const body = {
      type: 'message',
      id: 'msg_1',
      model: 'm',
      content: [],
      stop_reason: stopReason,
      usage: { input_tokens: 1, output_tokens: 1 },
    };
    const completion = parseChatResponse(body, request);
    expect(completion.choices[0]?.finish_reason).toBe(finishReason);
    expect(completion.choices[0]?.message.content).toBeNull();
  });

  it('rejects a body that is not a message', () => {
    expect(() => parseChatResponse(readJsonFixture('error-overloaded.json'), request)).toThrow(ApiError);
    expect(() => parseChatResponse('nonsense', request)).toThrow(/unexpected response body/);
  });
});
