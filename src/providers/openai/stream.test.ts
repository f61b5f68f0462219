import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSseText } from '../shared/sse-text.js';
import { assembleChunks } from '../shared/stream-assembly.js';
import { isUpstreamStreamError, UpstreamStreamError } from '../shared/stream-error.js';
import type { ChatCompletionChunk, ChatRequest } from '../types.js';
import { openaiAdapter } from './index.js';

const read = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/openai/${name}`, import.meta.url), 'utf8');
const request: ChatRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true };
const ids = { id: 'chatcmpl-gateway', created: 1700000000 };

function translate(sse: string): ChatCompletionChunk[] {
  const translator = openaiAdapter.createStreamTranslator(request, ids);
  return [...parseSseText(sse).flatMap((event) => translator.push(event)), ...translator.end()];
}

describe('openai stream translator', () => {
  it('passes the recorded text stream through and ignores [DONE]', () => {
    const chunks = translate(read('stream-text.sse'));
    expect(chunks).toHaveLength(33);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.every((chunk) => chunk.id === 'chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL')).toBe(true);
    const completion = assembleChunks(chunks);
    const expected = JSON.parse(read('chat.json')) as { choices: Array<{ message: { content: string } }> };
    expect(completion.choices[0]?.message.content).toBe(expected.choices[0]?.message.content);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({
      prompt_tokens: 14,
      completion_tokens: 30,
      total_tokens: 44,
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('reassembles the recorded tool-call arguments', () => {
    const completion = assembleChunks(translate(read('stream-tool-calls.sse')));
    const expected = JSON.parse(read('chat-tool-calls.json')) as {
      choices: Array<{ message: { tool_calls: unknown } }>;
    };
    expect(completion.choices[0]?.message.tool_calls).toEqual(expected.choices[0]?.message.tool_calls);
    expect(JSON.parse(completion.choices[0]?.message.tool_calls?.[0]?.function.arguments ?? '')).toEqual({
      city: 'New York City',
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('throws an UpstreamStreamError on a top-level error payload', () => {
    const translator = openaiAdapter.createStreamTranslator(request, ids);
    const events = parseSseText(read('stream-error.sse'));
    expect(translator.push(events[1] ?? { data: '' })[0]?.choices[0]?.delta.content).toBe('Partial');
    try {
      translator.push(events[2] ?? { data: '' });
      expect.unreachable();
    } catch (error) {
      expect(isUpstreamStreamError(error)).toBe(true);
      expect((error as UpstreamStreamError).info).toMatchObject({
        status: 502,
        code: 'upstream_error',
        retryable: true,
      });
    }
  });

  it('throws on an `event: error` and on non-JSON data', () => {
    const translator = openaiAdapter.createStreamTranslator(request, ids);
    expect(() =>
      translator.push({
        event: 'error',
        data: '{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}',
      }),
    ).toThrow(/rate limit/);
    expect(() => openaiAdapter.createStreamTranslator(request, ids).push({ data: '<html>' })).toThrow(
      UpstreamStreamError,
    );
  });

  it('fills missing ids and reads choices: null as no choices', () => {
    const translator = openaiAdapter.createStreamTranslator(request, ids);
    const [chunk] = translator.push({ data: '{"choices":[{"index":0,"delta":{"content":"x","reasoning":"r"}}]}' });
    expect(chunk).toMatchObject({
      id: 'chatcmpl-gateway',
      created: 1700000000,
      model: 'gpt-4o',
      object: 'chat.completion.chunk',
    });
    expect(chunk?.choices[0]?.delta).toEqual({ content: 'x', reasoning_content: 'r' });
    expect(translator.push({ data: '{"id":"a","choices":null}' })).toEqual([]);
  });
});
