/**
 * Azure OpenAI embeddings: `/embeddings` under the deployment (classic) or `/openai/v1` (v1).
 */
import { parseOpenAiEmbeddingsResponse } from '../openai/embeddings.js';
import { jsonPost } from '../shared/http-request.js';
import type { EmbeddingsRequest, EmbeddingsResponse, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { azureAuthHeaders, azureDeployment, azureUrl, isV1 } from './api.js';
import { AZURE_PROVIDER_NAME } from './chat.js';

export function buildAzureEmbeddingsRequest(request: EmbeddingsRequest, target: UpstreamTarget): UpstreamHttpRequest {
  const model = isV1(target) ? azureDeployment(target) : target.upstreamModel;
  return jsonPost(azureUrl(target, 'embeddings'), target.headers, azureAuthHeaders(target), { ...request, model });
}

export function parseAzureEmbeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse {
  return parseOpenAiEmbeddingsResponse(body, request, AZURE_PROVIDER_NAME);
}
