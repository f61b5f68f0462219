/**
 * Anthropic's token counting API: `POST /v1/messages/count_tokens` takes a Messages body without
 * `max_tokens` (model, messages, system, tools, tool_choice, thinking) and answers `{ "input_tokens": N }`.
 * Free of charge and rate-limited separately from Messages.
 * Reference: https://docs.anthropic.com/en/api/messages-count-tokens
 */
import { UnsupportedRequestError } from '../shared/request-error.js';
import type { ForwardedApi, JsonObject, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { anthropicHeaders, messagesUrl } from './api.js';

/** The upstream request of a forwarded API: only count_tokens exists on Anthropic's side. */
export function buildAnthropicForwardedRequest(
  api: ForwardedApi,
  body: JsonObject,
  target: UpstreamTarget,
  clientHeaders: Record<string, string> = {},
): UpstreamHttpRequest {
  if (api !== 'count_tokens') throw new UnsupportedRequestError(`Anthropic has no ${api} API`);
  const headers = anthropicHeaders(target);
  const betas = clientHeaders['anthropic-beta'];
  if (betas) {
    const channelBetas = headers['anthropic-beta'];
    headers['anthropic-beta'] = channelBetas ? `${channelBetas},${betas}` : betas;
  }
  return {
    method: 'POST',
    url: `${messagesUrl(target.baseUrl)}/count_tokens`,
    headers,
    body: JSON.stringify({ ...body, model: target.upstreamModel }),
  };
}
