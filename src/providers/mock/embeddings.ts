/**
 * Deterministic mock embeddings: each input gets a unit-length vector of `dimensions` floats (default
 * 8) derived from an FNV-1a hash of the input text and the component index, so equal inputs always get
 * equal vectors and different inputs almost always differ. Usage counts tokens as tokens.ts does.
 */
import { toBase64Float32 } from '../shared/base64-float.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../types.js';
import { estimateMockTokens, fnv1a } from './tokens.js';

export const MOCK_EMBEDDING_DIMENSIONS = 8;
const MAX_DIMENSIONS = 4096;

function inputTexts(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.length === 0) return [];
  if (input.every((item) => typeof item === 'number')) return [`tokens:${input.join(',')}`];
  return input.map((item) => (typeof item === 'string' ? item : `tokens:${item.join(',')}`));
}

/** A unit vector for one text. */
export function mockVector(text: string, dimensions: number): number[] {
  const raw = Array.from({ length: dimensions }, (_, i) => (fnv1a(`${text}#${i}`) / 0xffffffff) * 2 - 1);
  const norm = Math.sqrt(raw.reduce((sum, value) => sum + value * value, 0)) || 1;
  return raw.map((value) => value / norm);
}

/**
 * @example mockEmbedding({ model: 'mock-embed', input: ['a', 'b'], dimensions: 4 }).data[1]?.embedding.length // 4
 */
export function mockEmbedding(request: EmbeddingsRequest): EmbeddingsResponse {
  const requested = typeof request.dimensions === 'number' ? Math.floor(request.dimensions) : MOCK_EMBEDDING_DIMENSIONS;
  const dimensions = Math.min(MAX_DIMENSIONS, Math.max(1, requested));
  const texts = inputTexts(request.input);
  const tokens = texts.reduce((sum, text) => sum + estimateMockTokens(text), 0);
  return {
    object: 'list',
    data: texts.map((text, index) => {
      const vector = mockVector(text, dimensions);
      return {
        object: 'embedding' as const,
        index,
        embedding: request.encoding_format === 'base64' ? toBase64Float32(vector) : vector,
      };
    }),
    model: request.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
