/**
 * The same-protocol path of `/v1/responses`: an upstream that serves the Responses API itself (OpenAI)
 * gets the client's body with the upstream model name, and its answer and events go back as they came.
 */
import { joinUrl, jsonPost } from '../../shared/http-request.js';
import type { UpstreamHttpRequest, UpstreamTarget } from '../../types.js';
import { bearerAuth } from '../api.js';

/** POST `${baseUrl}/responses` with the upstream model. */
export function buildOpenAiResponsesRequest(
  body: Record<string, unknown>,
  target: UpstreamTarget,
): UpstreamHttpRequest {
  return jsonPost(joinUrl(target.baseUrl, 'responses'), target.headers, bearerAuth(target), {
    ...body,
    model: target.upstreamModel,
  });
}
