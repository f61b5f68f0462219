/**
 * Azure OpenAI chat: the OpenAI wire format at Azure's addresses. Reference: PROTOCOLS.md §2.
 */
import { parseOpenAiChatResponse } from '../openai/chat.js';
import { jsonPost } from '../shared/http-request.js';
import type { ChatCompletion, ChatRequest, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { azureAuthHeaders, azureDeployment, azureUrl, isV1 } from './api.js';

export const AZURE_PROVIDER_NAME = 'Azure OpenAI';

/**
 * The canonical request with `model` set to the deployment (v1, where it routes) or the upstream model
 * (classic, where Azure ignores it and the URL routes).
 */
export function buildAzureChatRequest(request: ChatRequest, target: UpstreamTarget): UpstreamHttpRequest {
  const model = isV1(target) ? azureDeployment(target) : target.upstreamModel;
  return jsonPost(azureUrl(target, 'chat/completions'), target.headers, azureAuthHeaders(target), {
    ...request,
    model,
  });
}

/** OpenAI response parsing; `content_filter_results` / `prompt_filter_results` are carried through. */
export function parseAzureChatResponse(body: unknown, request: ChatRequest): ChatCompletion {
  return parseOpenAiChatResponse(body, request, AZURE_PROVIDER_NAME);
}
