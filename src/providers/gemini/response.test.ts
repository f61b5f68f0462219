import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidUpstreamResponseError } from '../shared/stream-error.js';
import type { ChatRequest } from '../types.js';
import { geminiAdapter, parseGeminiResponse } from './index.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8'));
const request: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'x' }] };

describe('gemini response', () => {
  it('maps a text answer and its usage', () => {
    const completion = geminiAdapter.parseChatResponse(fixture('chat.json'), request);
    expect(completion).toMatchObject({
      id: 'chatcmpl-mPx9aL3nFqGb1e8PzO2vqQs',
      object: 'chat.completion',
      model: 'gemini-2.5-flash',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: "The capital of France is Paris. It is also the country's largest city.",
          },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 16, total_tokens: 25 },
    });
  });

  it('maps thoughts to reasoning_content and counts thinking and cached tokens', () => {
    const completion = geminiAdapter.parseChatResponse(fixture('chat-reasoning.json'), request);
    expect(completion.choices[0]?.message.content).toBe('17 × 23 = 391.');
    expect(completion.choices[0]?.message.reasoning_content).toMatch(/^\*\*Checking the arithmetic\*\*/);
    expect(completion.usage).toEqual({
      prompt_tokens: 1040,
      completion_tokens: 121,
      total_tokens: 1161,
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 112 },
    });
  });

  it('maps function calls to tool_calls with deterministic ids and finish tool_calls', () => {
    const first = geminiAdapter.parseChatResponse(fixture('chat-tool-calls.json'), request);
    const again = geminiAdapter.parseChatResponse(fixture('chat-tool-calls.json'), request);
    const message = first.choices[0]?.message;
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(message?.content).toBeNull();
    expect(message?.tool_calls?.map((call) => call.function)).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris"}' },
      { name: 'get_weather', arguments: '{"city":"London","unit":"celsius"}' },
    ]);
    expect(message?.tool_calls?.map((call) => call.id)).toEqual([
      'call_Zb1kaPvDLsmVnvgP4p7K8AE_0_0',
      'call_Zb1kaPvDLsmVnvgP4p7K8AE_0_1',
    ]);
    expect(again.choices[0]?.message.tool_calls).toEqual(message?.tool_calls);
    expect(message?.tool_calls?.[0]).toHaveProperty('extra_content.google.thought_signature');
  });

  it('maps finish reasons', () => {
    const body = (finishReason: string) => ({
      candidates: [{ content: { parts: [{ text: 'x' }], role: 'model' }, finishReason }],
      responseId: 'r',
    });
    expect(parseGeminiResponse(body('MAX_TOKENS'), request).choices[0]?.finish_reason).toBe('length');
    expect(parseGeminiResponse(body('SAFETY'), request).choices[0]?.finish_reason).toBe('content_filter');
    expect(parseGeminiResponse(body('RECITATION'), request).choices[0]?.finish_reason).toBe('content_filter');
    expect(parseGeminiResponse(body('MALFORMED_FUNCTION_CALL'), request).choices[0]?.finish_reason).toBe('stop');
  });

  it('maps a blocked prompt to a content_filter choice', () => {
    const completion = geminiAdapter.parseChatResponse(fixture('chat-blocked.json'), request);
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' },
    ]);
  });

  it('uses given ids when the response has no responseId, and rejects unusable bodies', () => {
    const completion = parseGeminiResponse(
      { candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'STOP' }] },
      request,
      { id: 'gw-1', created: 42 },
    );
    expect(completion).toMatchObject({ id: 'gw-1', created: 42, model: 'alias' });
    expect(() => parseGeminiResponse({ candidates: [] }, request)).toThrow(InvalidUpstreamResponseError);
    expect(() => parseGeminiResponse('nope', request)).toThrow(InvalidUpstreamResponseError);
  });
});
