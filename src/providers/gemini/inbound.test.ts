/** The Gemini API as an inbound protocol, without HTTP: request → canonical chat, canonical → response/stream. */
import { describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../types.js';
import { chatToGeminiResponse, createGeminiStreamEncoder, geminiRequestToChat } from './inbound.js';

describe('geminiRequestToChat', () => {
  it('maps system instruction, turns, function calls and responses (ids paired by name), tools and config', () => {
    const chat = geminiRequestToChat(
      {
        systemInstruction: { parts: [{ text: 'Be terse.' }] },
        contents: [
          { role: 'user', parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] },
          { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 15 } } }] },
        ],
        tools: [
          {
            functionDeclarations: [
              { name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
        generationConfig: {
          maxOutputTokens: 100,
          temperature: 0.2,
          stopSequences: ['END'],
          responseMimeType: 'application/json',
        },
      },
      'gem',
    );
    expect(chat.messages[0]).toEqual({ role: 'system', content: 'Be terse.' });
    expect(chat.messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Weather?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      ],
    });
    const id = chat.messages[2]?.tool_calls?.[0]?.id;
    expect(chat.messages[2]).toMatchObject({
      role: 'assistant',
      content: null,
      tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    expect(chat.messages[3]).toEqual({ role: 'tool', tool_call_id: id, content: '{"temp":15}' });
    expect(chat.tools?.[0]?.function.parameters).toEqual({ type: 'object', properties: { city: { type: 'string' } } });
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(chat).toMatchObject({
      max_tokens: 100,
      temperature: 0.2,
      stop: ['END'],
      response_format: { type: 'json_object' },
    });
  });

  it('refuses a body without contents (the client’s 400)', () => {
    expect(() => geminiRequestToChat({ contents: [] }, 'gem')).toThrow(/contents/);
  });
});

describe('Gemini answers', () => {
  const completion: ChatCompletion = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'up',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Hi',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: {
      prompt_tokens: 5,
      completion_tokens: 7,
      total_tokens: 12,
      completion_tokens_details: { reasoning_tokens: 2 },
    },
  };

  it('a completion as a GenerateContentResponse: parts, finish reason, usage metadata without thoughts', () => {
    expect(chatToGeminiResponse(completion, 'gem')).toEqual({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [{ text: 'Hi' }, { functionCall: { name: 'f', args: { a: 1 }, id: 'c1' } }],
          },
          index: 0,
          finishReason: 'STOP',
        },
      ],
      modelVersion: 'gem',
      responseId: 'chatcmpl-1',
      usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 5, totalTokenCount: 12, thoughtsTokenCount: 2 },
    });
  });

  it('a stream: text as it comes, the gathered function call with finishReason and usage at the end', () => {
    const encoder = createGeminiStreamEncoder('gem', 'req_1');
    const base = { id: 'x', object: 'chat.completion.chunk' as const, created: 1, model: 'up' };
    const text = encoder.push({ ...base, choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] });
    expect(JSON.parse(text.slice(6))).toMatchObject({ candidates: [{ content: { parts: [{ text: 'Hel' }] } }] });
    encoder.push({
      ...base,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, id: 'c1', function: { name: 'f', arguments: '{"a"' } }] },
          finish_reason: null,
        },
      ],
    });
    encoder.push({
      ...base,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] },
          finish_reason: 'tool_calls',
        },
      ],
    });
    const last = JSON.parse(encoder.end({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }).slice(6));
    expect(last).toMatchObject({
      candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: { a: 1 } } }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 },
    });
    expect(encoder.error({ status: 429, code: 'rate_limit_exceeded', message: 'slow down', retryable: true })).toBe(
      'data: {"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}\n\n',
    );
  });
});
