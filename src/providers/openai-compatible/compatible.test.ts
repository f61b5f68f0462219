import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSseText } from '../shared/sse-text.js';
import { assembleChunks } from '../shared/stream-assembly.js';
import { UpstreamStreamError } from '../shared/stream-error.js';
import type { ChatCompletionChunk, ChatRequest, UpstreamTarget } from '../types.js';
import { openaiCompatibleAdapter } from './index.js';

const read = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/openai-compatible/${name}`, import.meta.url), 'utf8');
const request: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'hi' }], stream: true };
const ollama: UpstreamTarget = {
  baseUrl: 'http://localhost:11434/v1',
  apiKey: '',
  upstreamModel: 'qwen3:8b',
  headers: {},
  options: {},
};

function translate(sse: string): ChatCompletionChunk[] {
  const translator = openaiCompatibleAdapter.createStreamTranslator(request, { id: 'gw', created: 9 });
  return [...parseSseText(sse).flatMap((event) => translator.push(event)), ...translator.end()];
}

describe('openai-compatible request', () => {
  it('has no default base URL and sends no Authorization without a key', () => {
    expect(openaiCompatibleAdapter.baseUrl.default).toBeNull();
    const http = openaiCompatibleAdapter.buildChatRequest(request, ollama);
    expect(http.url).toBe('http://localhost:11434/v1/chat/completions');
    expect(Object.keys(http.headers).map((name) => name.toLowerCase())).not.toContain('authorization');
  });

  it('sends Bearer when the channel has a key', () => {
    const http = openaiCompatibleAdapter.buildChatRequest(request, {
      ...ollama,
      baseUrl: 'https://api.deepseek.com',
      apiKey: 'sk-ds',
    });
    expect(http.headers.Authorization).toBe('Bearer sk-ds');
  });

  it('copies max_completion_tokens to max_tokens by default, or renames it on request', () => {
    const limited = { ...request, max_completion_tokens: 256 };
    expect(JSON.parse(openaiCompatibleAdapter.buildChatRequest(limited, ollama).body ?? '')).toMatchObject({
      max_tokens: 256,
      max_completion_tokens: 256,
    });
    const renamed = JSON.parse(
      openaiCompatibleAdapter.buildChatRequest(limited, { ...ollama, options: { maxTokensField: 'max_tokens' } })
        .body ?? '',
    );
    expect(renamed.max_tokens).toBe(256);
    expect(renamed).not.toHaveProperty('max_completion_tokens');
    const asIs = JSON.parse(
      openaiCompatibleAdapter.buildChatRequest(limited, {
        ...ollama,
        options: { maxTokensField: 'max_completion_tokens' },
      }).body ?? '',
    );
    expect(asIs).not.toHaveProperty('max_tokens');
  });

  it('keeps reasoning_content history unless the channel drops it', () => {
    const history: ChatRequest = {
      ...request,
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: null,
          reasoning_content: 'thinking',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    };
    expect(
      JSON.parse(openaiCompatibleAdapter.buildChatRequest(history, ollama).body ?? '').messages[1].reasoning_content,
    ).toBe('thinking');
    const dropped = JSON.parse(
      openaiCompatibleAdapter.buildChatRequest(history, { ...ollama, options: { reasoningHistory: 'drop' } }).body ??
        '',
    );
    expect(dropped.messages[1]).not.toHaveProperty('reasoning_content');
  });
});

describe('openai-compatible responses', () => {
  it('parses DeepSeek reasoning and maps its cache hits to cached_tokens', () => {
    const completion = openaiCompatibleAdapter.parseChatResponse(JSON.parse(read('chat.json')), request);
    expect(completion.choices[0]?.message.reasoning_content).toBe('The user asks for 2+2. That is 4.');
    const cached = openaiCompatibleAdapter.parseChatResponse(JSON.parse(read('deepseek-chat-cache-hit.json')), request);
    expect(cached.usage?.prompt_tokens_details?.cached_tokens).toBe(1152);
  });

  it('normalises Ollama `reasoning` in a non-stream message', () => {
    const message = openaiCompatibleAdapter.parseChatResponse(JSON.parse(read('ollama-chat-reasoning.json')), request)
      .choices[0]?.message;
    expect(message?.reasoning_content).toBe('The capital of France is Paris.');
    expect(message).not.toHaveProperty('reasoning');
  });

  it('streams DeepSeek reasoning then content, matching the non-stream answer', () => {
    const completion = assembleChunks(translate(read('stream-text.sse')));
    expect(completion.choices[0]?.message).toMatchObject({
      content: '2 + 2 = 4.',
      reasoning_content: 'The user asks for 2+2. That is 4.',
    });
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it('handles Ollama whole tool calls in one delta', () => {
    const completion = assembleChunks(translate(read('ollama-stream-tool-calls.sse')));
    expect(completion.choices[0]?.message.tool_calls).toEqual([
      { id: 'call_k3m9x2ab', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
    expect(completion.choices[0]?.message.reasoning_content).toBe(
      'The user wants the weather in Paris; call the tool.',
    );
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('takes OpenRouter reasoning once although `reasoning_details` repeats it', () => {
    const chunks = translate(read('openrouter-stream-reasoning.sse'));
    const completion = assembleChunks(chunks);
    expect(completion.choices[0]?.message.reasoning_content).toBe('Simple greeting; reply briefly.');
    expect(completion.choices[0]?.message.content).toBe('Hi there!');
    expect(completion.usage).toMatchObject({ total_tokens: 216, cost: 0.000912 });
    expect(chunks.some((chunk) => chunk.choices.some((choice) => 'reasoning' in choice.delta))).toBe(false);
  });

  it('tolerates vLLM usage chunks with choices: null and streams without usage', () => {
    const chunks = translate(read('vllm-stream-usage-null-choices.sse'));
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 });
    expect(assembleChunks(chunks).choices[0]?.message).toMatchObject({
      content: '1, 2, 3',
      reasoning_content: 'Count to three.',
    });
    const withoutUsage = chunks.filter((chunk) => chunk.choices.length > 0);
    expect(assembleChunks(withoutUsage).usage).toBeUndefined();
  });

  it('throws on a llama.cpp error after HTTP 200', () => {
    expect(() => translate(read('stream-error.sse'))).toThrow(UpstreamStreamError);
  });
});

describe('openai-compatible errors', () => {
  it('maps the error-body variants of compatible servers', () => {
    expect(openaiCompatibleAdapter.parseError(401, read('error-401.json'), {})).toMatchObject({
      status: 502,
      code: 'upstream_auth_failed',
    });
    expect(openaiCompatibleAdapter.parseError(401, read('error-401.json'), {}).message).not.toContain('9f3a');
    expect(openaiCompatibleAdapter.parseError(404, read('error-404-ollama.json'), {}).message).toContain(
      'model "llama9" not found',
    );
    expect(openaiCompatibleAdapter.parseError(400, read('error-400-vllm.json'), {})).toMatchObject({
      status: 400,
      code: 'bad_request',
    });
    expect(openaiCompatibleAdapter.parseError(400, read('error-400-vllm.json'), {}).message).toContain(
      'maximum context length',
    );
    expect(openaiCompatibleAdapter.parseError(422, read('error-422-detail.json'), {}).message).toContain(
      'Input should be a valid list',
    );
    expect(openaiCompatibleAdapter.parseError(404, read('error-plain-string.json'), {}).message).toContain(
      "model 'tiny' not found",
    );
  });
});
