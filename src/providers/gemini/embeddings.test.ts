import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromBase64Float32 } from '../shared/base64-float.js';
import { UnsupportedRequestError } from '../shared/request-error.js';
import type { UpstreamTarget } from '../types.js';
import { geminiAdapter } from './index.js';

const fixture = (): unknown =>
  JSON.parse(readFileSync(new URL('../../../test/fixtures/gemini/embeddings.json', import.meta.url), 'utf8'));
const target: UpstreamTarget = {
  baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  apiKey: 'k',
  upstreamModel: 'gemini-embedding-001',
  headers: {},
  options: {},
};

describe('gemini embeddings', () => {
  it('builds a batchEmbedContents request with one entry per input', () => {
    const http = geminiAdapter.buildEmbeddingsRequest?.({ model: 'e', input: ['a', 'b'], dimensions: 768 }, target);
    expect(http?.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents',
    );
    expect(JSON.parse(http?.body ?? '')).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 768 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 768 },
      ],
    });
  });

  it('rejects token-array input before calling the upstream', () => {
    expect(() => geminiAdapter.buildEmbeddingsRequest?.({ model: 'e', input: [1, 2, 3] }, target)).toThrow(
      UnsupportedRequestError,
    );
  });

  it('maps the response to the OpenAI shape, as floats or base64', () => {
    const floats = geminiAdapter.parseEmbeddingsResponse?.(fixture(), { model: 'e', input: ['a', 'b'] });
    expect(floats?.data.map((item) => item.index)).toEqual([0, 1]);
    expect(floats?.data[0]?.embedding).toEqual([0.013168523, -0.008711934, -0.046782676, 0.00069968984]);
    const base64 = geminiAdapter.parseEmbeddingsResponse?.(fixture(), {
      model: 'e',
      input: ['a', 'b'],
      encoding_format: 'base64',
    });
    const decoded = fromBase64Float32(base64?.data[0]?.embedding as string);
    expect(decoded[0]).toBeCloseTo(0.013168523, 6);
  });
});
