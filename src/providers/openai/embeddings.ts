/**
 * OpenAI embeddings: pass-through with the model replaced, response validated.
 * Reference: PROTOCOLS.md §1.6.
 */
import { joinUrl, jsonPost } from '../shared/http-request.js';
import { isRecord, readArray, readNumber, readRecord, readString } from '../shared/json.js';
import { invalidResponse } from '../shared/stream-error.js';
import type { EmbeddingsRequest, EmbeddingsResponse, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { bearerAuth } from './api.js';

/** POST `${baseUrl}/embeddings` with the upstream model. */
export function buildOpenAiEmbeddingsRequest(request: EmbeddingsRequest, target: UpstreamTarget): UpstreamHttpRequest {
  return jsonPost(joinUrl(target.baseUrl, 'embeddings'), target.headers, bearerAuth(target), {
    ...request,
    model: target.upstreamModel,
  });
}

function isEmbedding(value: unknown): value is number[] | string {
  return typeof value === 'string' || (Array.isArray(value) && value.every((n) => typeof n === 'number'));
}

/** Validates `{object:'list', data:[{index, embedding}], usage}`; missing usage counts as zero. */
export function parseOpenAiEmbeddingsResponse(
  body: unknown,
  request: EmbeddingsRequest,
  provider = 'OpenAI',
): EmbeddingsResponse {
  if (!isRecord(body) || !Array.isArray(body.data))
    throw invalidResponse(provider, 'the embeddings body has no data array');
  const data = readArray(body, 'data').map((item, position) => {
    if (!isRecord(item) || !isEmbedding(item.embedding)) {
      throw invalidResponse(provider, `embedding ${position} is not a number array or base64 string`);
    }
    return { object: 'embedding' as const, index: readNumber(item, 'index') ?? position, embedding: item.embedding };
  });
  const usage = readRecord(body, 'usage');
  const prompt = usage ? (readNumber(usage, 'prompt_tokens') ?? 0) : 0;
  return {
    object: 'list',
    data,
    model: readString(body, 'model') || request.model,
    usage: { prompt_tokens: prompt, total_tokens: usage ? (readNumber(usage, 'total_tokens') ?? prompt) : prompt },
  };
}
