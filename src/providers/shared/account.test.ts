import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getProvider } from '../registry.js';
import type { UpstreamTarget } from '../types.js';
import { toMicros } from './account.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/accounts/${name}`, import.meta.url), 'utf8'));

const target = (baseUrl: string, options: Record<string, string> = {}): UpstreamTarget => ({
  baseUrl,
  apiKey: 'k-123',
  upstreamModel: '',
  headers: {},
  options,
});

const list = (provider: string) => {
  const api = getProvider(provider)?.modelList;
  if (!api) throw new Error(`${provider} lists no models`);
  return api;
};

describe('model lists per provider', () => {
  it('OpenAI and compatible servers: GET {base}/models, data[].id', () => {
    expect(list('openai').buildRequest(target('https://api.openai.com/v1'))).toMatchObject({
      method: 'GET',
      url: 'https://api.openai.com/v1/models',
      headers: { Authorization: 'Bearer k-123' },
    });
    expect(list('openai').parse(fixture('openai-models.json'))).toEqual([
      'gpt-4o-mini',
      'gpt-4o',
      'text-embedding-3-small',
    ]);
    expect(list('openai-compatible').parse(fixture('ollama-models.json'))).toEqual(['llama3.2:latest', 'qwen2.5:7b']);
  });

  it('Anthropic: GET /v1/models with x-api-key and anthropic-version', () => {
    const request = list('anthropic').buildRequest(target('https://api.anthropic.com'));
    expect(request.url).toBe('https://api.anthropic.com/v1/models?limit=1000');
    expect(request.headers).toMatchObject({ 'x-api-key': 'k-123', 'anthropic-version': '2023-06-01' });
    expect(list('anthropic').buildRequest(target('https://proxy.example/v1')).url).toBe(
      'https://proxy.example/v1/models?limit=1000',
    );
    expect(list('anthropic').parse(fixture('anthropic-models.json'))).toEqual([
      'claude-sonnet-4-20250514',
      'claude-3-5-haiku-20241022',
    ]);
  });

  it('Gemini: GET /v1beta/models, names without models/', () => {
    const request = list('gemini').buildRequest(target('https://generativelanguage.googleapis.com/v1beta'));
    expect(request.url).toBe('https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000');
    expect(request.headers).toMatchObject({ 'x-goog-api-key': 'k-123' });
    expect(list('gemini').parse(fixture('gemini-models.json'))).toEqual(['gemini-2.5-flash', 'text-embedding-004']);
  });

  it('Azure: the classic and v1 model lists', () => {
    expect(list('azure-openai').buildRequest(target('https://res.openai.azure.com/openai')).url).toBe(
      'https://res.openai.azure.com/openai/models?api-version=2024-10-21',
    );
    expect(list('azure-openai').buildRequest(target('https://res.openai.azure.com', { apiMode: 'v1' })).url).toBe(
      'https://res.openai.azure.com/openai/v1/models',
    );
  });

  it('Cohere: rerank models by name', () => {
    expect(list('cohere').buildRequest(target('https://api.cohere.com')).url).toBe(
      'https://api.cohere.com/v1/models?endpoint=rerank&page_size=1000',
    );
    expect(list('cohere').parse(fixture('cohere-models.json'))).toEqual(['rerank-v3.5', 'rerank-multilingual-v3.0']);
  });

  it('tolerates malformed answers', () => {
    expect(list('openai').parse({ data: [{ id: 1 }, null, { id: 'x' }, { id: 'x' }] })).toEqual(['x']);
    expect(list('gemini').parse('nope')).toEqual([]);
  });
});

describe('toMicros', () => {
  it('reads numbers and decimal strings', () => {
    expect(toMicros('110.00')).toBe(110_000_000);
    expect(toMicros(25.75)).toBe(25_750_000);
    expect(toMicros('')).toBeNull();
    expect(toMicros('abc')).toBeNull();
    expect(toMicros(undefined)).toBeNull();
  });
});
