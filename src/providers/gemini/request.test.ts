import { describe, expect, it } from 'vitest';
import type { ChatRequest, ChatToolCall, UpstreamTarget } from '../types.js';
import { type GeminiExtraContent, geminiAdapter, SKIP_THOUGHT_SIGNATURE, toGeminiRequestBody } from './index.js';

const target: UpstreamTarget = {
  baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  apiKey: 'AIza-test-key-0000',
  upstreamModel: 'gemini-2.5-flash',
  headers: {},
  options: {},
};

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        city: { type: 'string', title: 'City', format: 'city-name' },
        unit: { type: ['string', 'null'], enum: ['c', 'f'], default: 'c' },
      },
      required: ['city', 'ghost'],
      additionalProperties: false,
    },
    strict: true,
  },
};

describe('gemini request URL and auth', () => {
  it('posts to :generateContent with x-goog-api-key and no key in the URL', () => {
    const http = geminiAdapter.buildChatRequest(
      { model: 'alias', messages: [{ role: 'user', content: 'hi' }] },
      target,
    );
    expect(http.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    expect(http.headers['x-goog-api-key']).toBe('AIza-test-key-0000');
    expect(http.url).not.toContain('AIza');
  });

  it('streams with :streamGenerateContent?alt=sse and keeps a models/ prefix once', () => {
    const http = geminiAdapter.buildChatRequest(
      { model: 'a', messages: [], stream: true },
      { ...target, upstreamModel: 'models/gemini-2.5-pro' },
    );
    expect(http.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
  });
});

describe('gemini message mapping', () => {
  const request: ChatRequest = {
    model: 'alias',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather here?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/photo.webp' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: 'not json' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":15}' },
      { role: 'tool', tool_call_id: 'call_2', content: '10:00' },
      { role: 'user', content: 'Thanks' },
    ],
  };

  it('hoists system/developer text into systemInstruction', () => {
    expect(toGeminiRequestBody(request).systemInstruction).toEqual({
      parts: [{ text: 'You are terse.' }, { text: 'Answer in English.' }],
    });
  });

  it('maps roles, images, tool calls and tool results, merging consecutive user turns', () => {
    const { contents } = toGeminiRequestBody(request);
    expect(contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'Weather here?' },
          { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
          { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/photo.webp' } },
        ],
      },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 15 } } },
          { functionResponse: { name: 'get_time', response: { output: '10:00' } } },
          { text: 'Thanks' },
        ],
      },
    ]);
  });

  it('echoes a thought signature carried in extra_content', () => {
    const signed: ChatToolCall & { extra_content: GeminiExtraContent } = {
      id: 'c',
      type: 'function',
      function: { name: 'f', arguments: '{}' },
      extra_content: { google: { thought_signature: 'sig-1' } },
    };
    const body = toGeminiRequestBody({
      model: 'a',
      messages: [{ role: 'assistant', content: 'Checking.', tool_calls: [signed] }],
    });
    expect(body.contents[0]?.parts).toEqual([
      { text: 'Checking.' },
      { functionCall: { name: 'f', args: {} }, thoughtSignature: 'sig-1' },
    ]);
  });
});

describe('gemini tools and generation config', () => {
  it('strips JSON-schema keys Gemini rejects and upper-cases types', () => {
    const body = toGeminiRequestBody({
      model: 'a',
      messages: [{ role: 'user', content: 'x' }],
      tools: [weatherTool],
      tool_choice: 'auto',
    });
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: {
              type: 'OBJECT',
              properties: { city: { type: 'STRING' }, unit: { type: 'STRING', nullable: true, enum: ['c', 'f'] } },
              required: ['city'],
            },
          },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
  });

  it('omits parameters for a tool without properties and maps every tool_choice', () => {
    const noArgs = {
      type: 'function' as const,
      function: { name: 'now', parameters: { type: 'object', properties: {} } },
    };
    const base: ChatRequest = { model: 'a', messages: [], tools: [noArgs] };
    expect(toGeminiRequestBody(base).tools?.[0]?.functionDeclarations[0]).toEqual({ name: 'now' });
    expect(toGeminiRequestBody({ ...base, tool_choice: 'none' }).toolConfig?.functionCallingConfig.mode).toBe('NONE');
    expect(toGeminiRequestBody({ ...base, tool_choice: 'required' }).toolConfig?.functionCallingConfig.mode).toBe(
      'ANY',
    );
    expect(
      toGeminiRequestBody({ ...base, tool_choice: { type: 'function', function: { name: 'now' } } }).toolConfig,
    ).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['now'] },
    });
  });

  it('inlines local $refs', () => {
    const tool = {
      type: 'function' as const,
      function: {
        name: 'f',
        parameters: {
          type: 'object',
          properties: { p: { $ref: '#/$defs/P' } },
          $defs: { P: { type: 'integer', format: 'int32' } },
        },
      },
    };
    expect(
      toGeminiRequestBody({ model: 'a', messages: [], tools: [tool] }).tools?.[0]?.functionDeclarations[0]?.parameters,
    ).toEqual({
      type: 'OBJECT',
      properties: { p: { type: 'INTEGER', format: 'int32' } },
    });
  });

  it('maps sampling, limits, JSON output and reasoning effort into generationConfig', () => {
    const body = toGeminiRequestBody({
      model: 'a',
      messages: [],
      temperature: 0.7,
      top_p: 0.9,
      max_tokens: 100,
      max_completion_tokens: 200,
      stop: 'END',
      n: 2,
      seed: 7,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'r',
          schema: { type: 'object', properties: { a: { type: 'number' } }, additionalProperties: false },
        },
      },
      reasoning_effort: 'low',
    });
    expect(body.generationConfig).toEqual({
      temperature: 0.7,
      topP: 0.9,
      maxOutputTokens: 200,
      stopSequences: ['END'],
      candidateCount: 2,
      seed: 7,
      responseMimeType: 'application/json',
      responseSchema: { type: 'OBJECT', properties: { a: { type: 'NUMBER' } } },
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
    });
    expect(toGeminiRequestBody({ model: 'a', messages: [], reasoning_effort: 'none' }).generationConfig).toEqual({
      thinkingConfig: { thinkingBudget: 0 },
    });
    expect(toGeminiRequestBody({ model: 'a', messages: [] }).generationConfig).toBeUndefined();
  });
});
