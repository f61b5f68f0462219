import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSseText } from '../shared/sse-text.js';
import { assembleChunks } from '../shared/stream-assembly.js';
import type { ChatCompletionChunk, ChatRequest, UpstreamTarget } from '../types.js';
import { AZURE_DEFAULT_API_VERSION, azureOpenaiAdapter } from './index.js';

const read = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/azure-openai/${name}`, import.meta.url), 'utf8');
const request: ChatRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }], stream: true };
const target: UpstreamTarget = {
  baseUrl: 'https://my-res.openai.azure.com/',
  apiKey: 'azure-key-123',
  upstreamModel: 'gpt-4o',
  headers: {},
  options: {},
};

function translate(sse: string): ChatCompletionChunk[] {
  const translator = azureOpenaiAdapter.createStreamTranslator(request, { id: 'gw-1', created: 5 });
  return [...parseSseText(sse).flatMap((event) => translator.push(event)), ...translator.end()];
}

describe('azure request', () => {
  it('uses the classic deployment URL with the default GA api-version and api-key header', () => {
    const http = azureOpenaiAdapter.buildChatRequest(request, target);
    expect(AZURE_DEFAULT_API_VERSION).toBe('2024-10-21');
    expect(http.url).toBe(
      'https://my-res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
    );
    expect(http.headers['api-key']).toBe('azure-key-123');
    expect(http.headers.Authorization).toBeUndefined();
    expect(JSON.parse(http.body ?? '').model).toBe('gpt-4o');
  });

  it('honours apiVersion and deployment options', () => {
    const http = azureOpenaiAdapter.buildChatRequest(request, {
      ...target,
      options: { apiVersion: '2025-01-01-preview', deployment: 'prod gpt' },
    });
    expect(http.url).toBe(
      'https://my-res.openai.azure.com/openai/deployments/prod%20gpt/chat/completions?api-version=2025-01-01-preview',
    );
  });

  it('uses the v1 form with the deployment as model and a Bearer key', () => {
    const http = azureOpenaiAdapter.buildChatRequest(request, {
      ...target,
      options: { apiMode: 'v1', deployment: 'my-dep' },
    });
    expect(http.url).toBe('https://my-res.openai.azure.com/openai/v1/chat/completions');
    expect(JSON.parse(http.body ?? '').model).toBe('my-dep');
    expect(http.headers.Authorization).toBe('Bearer azure-key-123');
  });

  it('accepts a base URL that already ends in /openai', () => {
    expect(
      azureOpenaiAdapter.buildChatRequest(request, { ...target, baseUrl: 'https://my-res.openai.azure.com/openai' })
        .url,
    ).toMatch(/^https:\/\/my-res\.openai\.azure\.com\/openai\/deployments\/gpt-4o\//);
  });

  it('builds embeddings URLs under the deployment', () => {
    const http = azureOpenaiAdapter.buildEmbeddingsRequest?.(
      { model: 'e', input: 'x' },
      { ...target, upstreamModel: 'text-embedding-3-small' },
    );
    expect(http?.url).toBe(
      'https://my-res.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21',
    );
  });
});

describe('azure responses and streams', () => {
  it('parses a response carrying filter results', () => {
    const completion = azureOpenaiAdapter.parseChatResponse(JSON.parse(read('chat.json')), request);
    expect(completion.choices[0]?.message.content).toBe('Hello from Azure OpenAI! How can I help you today?');
    expect(completion.prompt_filter_results).toBeDefined();
  });

  it('drops the prompt-annotation chunk and matches the non-stream answer', () => {
    const chunks = translate(read('stream-text.sse'));
    expect(chunks.every((chunk) => chunk.id === 'chatcmpl-AzR7c1mPq2Xw9LkT4bVnYh3sDe8F')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const completion = assembleChunks(chunks);
    expect(completion.choices[0]?.message.content).toBe('Hello from Azure OpenAI! How can I help you today?');
    expect(completion.usage?.total_tokens).toBe(31);
  });

  it('ends with content_filter when the filter blocks mid-stream', () => {
    const completion = assembleChunks(translate(read('stream-content-filter.sse')));
    expect(completion.choices[0]?.finish_reason).toBe('content_filter');
    expect(completion.choices[0]?.message.content).toBe('Here is the');
  });

  it('drops delta-less async-filter annotations', () => {
    const chunks = translate(read('stream-async-filter.sse'));
    expect(chunks.every((chunk) => chunk.choices.every((choice) => choice.delta !== undefined))).toBe(true);
    expect(chunks.every((chunk) => chunk.id !== '')).toBe(true);
    expect(assembleChunks(chunks).choices[0]?.message.content).toBe('Hello there');
  });
});

describe('azure errors', () => {
  it('maps a content-filtered prompt to a non-retryable 400 naming the category', () => {
    const info = azureOpenaiAdapter.parseError(400, read('error-400-content-filter.json'), {});
    expect(info).toMatchObject({ status: 400, code: 'bad_request', retryable: false });
    expect(info.message).toBe("Azure OpenAI's content filter blocked the prompt (jailbreak)");
  });

  it('maps 401, DeploymentNotFound, 429 and 500', () => {
    expect(azureOpenaiAdapter.parseError(401, read('error-401.json'), {})).toMatchObject({
      status: 502,
      code: 'upstream_auth_failed',
    });
    const notFound = azureOpenaiAdapter.parseError(404, read('error-404.json'), {});
    expect(notFound).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(notFound.message).toContain('deployment for this resource does not exist');
    expect(azureOpenaiAdapter.parseError(429, read('error-429.json'), { 'retry-after': '6' })).toMatchObject({
      status: 429,
      retryAfterSeconds: 6,
    });
    expect(azureOpenaiAdapter.parseError(500, read('error-500.json'), {})).toMatchObject({
      status: 502,
      retryable: true,
    });
  });
});
