/**
 * OpenAI's image and audio APIs (https://platform.openai.com/docs/api-reference/images, /audio): the
 * client's JSON body or multipart form at `{base}/{images|audio}/…` with the upstream's model name.
 * OpenAI-compatible servers that serve them (LocalAI, vLLM's transcriptions, Speaches) take the same.
 */
import { joinUrl } from '../shared/http-request.js';
import { OPENAI_MEDIA_PATHS, openAiShapedMediaRequest } from '../shared/media.js';
import type { MediaRequest, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { bearerAuth } from './api.js';

/** `POST {base}/images/generations` (etc.), bearer auth, `model` set to the upstream's. */
export function buildOpenAiMediaRequest(request: MediaRequest, target: UpstreamTarget): UpstreamHttpRequest {
  const url = joinUrl(target.baseUrl, OPENAI_MEDIA_PATHS[request.api]);
  return openAiShapedMediaRequest(request, url, target.headers, bearerAuth(target), target.upstreamModel);
}
