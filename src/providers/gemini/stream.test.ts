import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSseText } from '../shared/sse-text.js';
import { assembleChunks } from '../shared/stream-assembly.js';
import { UpstreamStreamError } from '../shared/stream-error.js';
import type { ChatCompletionChunk, ChatRequest } from '../types.js';
import { geminiAdapter } from './index.js';

const read = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8');
const request: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'x' }], stream: true };
const ids = { id: 'chatcmpl-gw', created: 1700000000 };

function translate(sse: string): ChatCompletionChunk[] {
  const translator = geminiAdapter.createStreamTranslator(request, ids);
  return [...parseSseText(sse).flatMap((event) => translator.push(event)), ...translator.end()];
}

describe('gemini stream translator', () => {
  it('reports the prompt count of the first chunk for a stream cut before its end (the output is not final yet)', () => {
    const translator = geminiAdapter.createStreamTranslator(request, ids);
    expect(translator.reported?.()).toEqual({});
    const [first] = parseSseText(read('stream-text.sse'));
    if (first) translator.push(first);
    expect(translator.reported?.()).toEqual({ prompt: 9 });
  });

  it('emits role first, text deltas, a finish chunk, then one usage chunk', () => {
    const chunks = translate(read('stream-text.sse'));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta ?? 'usage')).toEqual([
      { role: 'assistant', content: '' },
      { content: 'The capital of France is ' },
      { content: "Paris. It is also the country's largest city" },
      { content: '.' },
      {},
      'usage',
    ]);
    expect(chunks[4]?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks[5]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 16, total_tokens: 25 },
    });
    expect(
      chunks.every(
        (chunk) => chunk.id === 'chatcmpl-gw' && chunk.created === 1700000000 && chunk.model === 'gemini-2.5-flash',
      ),
    ).toBe(true);
  });

  it('matches the non-stream answer', () => {
    const streamed = assembleChunks(translate(read('stream-text.sse')));
    const whole = geminiAdapter.parseChatResponse(JSON.parse(read('chat.json')), request);
    expect(streamed.choices[0]?.message.content).toBe(whole.choices[0]?.message.content);
    expect(streamed.usage).toEqual(whole.usage);
  });

  it('streams thoughts as reasoning_content and keeps the last usage', () => {
    const completion = assembleChunks(translate(read('stream-reasoning.sse')));
    const whole = geminiAdapter.parseChatResponse(JSON.parse(read('chat-reasoning.json')), request);
    expect(completion.choices[0]?.message.reasoning_content).toBe(whole.choices[0]?.message.reasoning_content);
    expect(completion.choices[0]?.message.content).toBe('17 × 23 = 391.');
    expect(completion.usage).toEqual(whole.usage);
  });

  it('emits each whole function call as one delta with full arguments', () => {
    const chunks = translate(read('stream-tool-calls.sse'));
    const callDeltas = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? []));
    expect(callDeltas).toHaveLength(2);
    expect(callDeltas[1]).toMatchObject({
      index: 1,
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"London","unit":"celsius"}' },
    });
    const completion = assembleChunks(chunks);
    const whole = geminiAdapter.parseChatResponse(JSON.parse(read('chat-tool-calls.json')), request);
    expect(completion.choices[0]?.message.tool_calls?.map((call) => call.function)).toEqual(
      whole.choices[0]?.message.tool_calls?.map((call) => call.function),
    );
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('throws an UpstreamStreamError with the mapped status on a mid-stream error', () => {
    const translator = geminiAdapter.createStreamTranslator(request, ids);
    const [first, second] = parseSseText(read('stream-error.sse'));
    expect(translator.push(first ?? { data: '' })).toHaveLength(2);
    try {
      translator.push(second ?? { data: '' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UpstreamStreamError);
      expect((error as UpstreamStreamError).info).toMatchObject({
        status: 502,
        code: 'upstream_error',
        retryable: true,
      });
    }
  });

  it('ends a blocked prompt with content_filter and emits nothing for an empty stream', () => {
    const translator = geminiAdapter.createStreamTranslator(request, ids);
    const chunks = translator.push({ data: '{"promptFeedback":{"blockReason":"SAFETY"}}' });
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason)).toEqual([null, 'content_filter']);
    expect(geminiAdapter.createStreamTranslator(request, ids).end()).toEqual([]);
  });
});
