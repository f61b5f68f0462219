/**
 * Azure OpenAI's legacy completions: `/completions` under the deployment (classic) or `/openai/v1` (v1),
 * for deployments of completion models (gpt-35-turbo-instruct, davinci-002). Azure has no moderations API
 * (its Content Safety service is a separate resource with its own API).
 * Reference: https://learn.microsoft.com/en-us/azure/ai-services/openai/reference#completions
 */

import { jsonPost } from '../shared/http-request.js';
import { UnsupportedRequestError } from '../shared/request-error.js';
import type { ForwardedApi, JsonObject, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { azureAuthHeaders, azureDeployment, azureUrl, isV1 } from './api.js';

export function buildAzureForwardedRequest(
  api: ForwardedApi,
  body: JsonObject,
  target: UpstreamTarget,
): UpstreamHttpRequest {
  if (api !== 'completions') throw new UnsupportedRequestError(`Azure OpenAI has no ${api} API`);
  const model = isV1(target) ? azureDeployment(target) : target.upstreamModel;
  return jsonPost(azureUrl(target, 'completions'), target.headers, azureAuthHeaders(target), { ...body, model });
}
