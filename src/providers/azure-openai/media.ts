/**
 * Azure OpenAI's image and audio APIs: OpenAI's bodies under the deployment (classic,
 * `/openai/deployments/{deployment}/{images|audio}/…?api-version=`) or under `/openai/v1` with the
 * deployment as `model` (v1). The classic form picks the model by its path, so `model` is dropped there.
 * Reference: https://learn.microsoft.com/en-us/azure/ai-services/openai/reference (Image generation,
 * Transcriptions, Translations, Speech); PROTOCOLS.md §2.
 */
import { OPENAI_MEDIA_PATHS, openAiShapedMediaRequest } from '../shared/media.js';
import type { MediaRequest, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { azureAuthHeaders, azureDeployment, azureUrl, isV1 } from './api.js';

export function buildAzureMediaRequest(request: MediaRequest, target: UpstreamTarget): UpstreamHttpRequest {
  const url = azureUrl(target, OPENAI_MEDIA_PATHS[request.api]);
  const model = isV1(target) ? azureDeployment(target) : null;
  return openAiShapedMediaRequest(request, url, target.headers, azureAuthHeaders(target), model);
}
