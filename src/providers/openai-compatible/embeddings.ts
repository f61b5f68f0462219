/**
 * OpenAI-compatible embeddings (`${baseUrl}/embeddings`), e.g. Ollama `/v1/embeddings` (§5.2).
 */
import { buildOpenAiEmbeddingsRequest, parseOpenAiEmbeddingsResponse } from '../openai/embeddings.js';
import type { EmbeddingsRequest, EmbeddingsResponse, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { COMPATIBLE_PROVIDER_NAME } from './api.js';

export function buildCompatibleEmbeddingsRequest(
  request: EmbeddingsRequest,
  target: UpstreamTarget,
): UpstreamHttpRequest {
  return buildOpenAiEmbeddingsRequest(request, target);
}

export function parseCompatibleEmbeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse {
  return parseOpenAiEmbeddingsResponse(body, request, COMPATIBLE_PROVIDER_NAME);
}
