/**
 * The OpenAI APIs whose request is the client's body with the upstream's model name: moderations
 * (https://platform.openai.com/docs/api-reference/moderations), legacy completions
 * (https://platform.openai.com/docs/api-reference/completions) and, on OpenAI-compatible servers that
 * serve it (vLLM, Infinity, Xinference), rerank in the Jina/Cohere shape at `{base}/rerank`.
 */
import { joinUrl, jsonPost } from '../shared/http-request.js';
import { UnsupportedRequestError } from '../shared/request-error.js';
import type { ForwardedApi, JsonObject, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { bearerAuth } from './api.js';

const PATHS: Partial<Record<ForwardedApi, string>> = {
  moderations: 'moderations',
  completions: 'completions',
  rerank: 'rerank',
};

/** `POST {base}/{api}` with bearer auth and the upstream model; count_tokens has no OpenAI equivalent. */
export function buildOpenAiForwardedRequest(
  api: ForwardedApi,
  body: JsonObject,
  target: UpstreamTarget,
): UpstreamHttpRequest {
  const path = PATHS[api];
  if (!path) throw new UnsupportedRequestError(`OpenAI has no ${api} API`);
  return jsonPost(joinUrl(target.baseUrl, path), target.headers, bearerAuth(target), {
    ...body,
    model: target.upstreamModel,
  });
}
