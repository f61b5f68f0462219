/**
 * OpenAI-compatible chat requests. The body is the canonical request with the upstream model, plus two
 * documented accommodations chosen per channel through `target.options`:
 *
 * - `maxTokensField` — many servers only read `max_tokens` (Ollama has no `max_completion_tokens`,
 *   PROTOCOLS.md §5.2). `both` (default): when the client sent only `max_completion_tokens`, also send
 *   `max_tokens` with the same value; `max_tokens`: send the limit only as `max_tokens`;
 *   `max_completion_tokens`: pass the request through unchanged.
 * - `reasoningHistory` — `keep` (default) sends `reasoning_content` back on assistant messages, which
 *   DeepSeek and Kimi require on tool-call turns (§5.1, §5.5); `drop` removes it for servers that
 *   reject it, such as the older `deepseek-reasoner`.
 *
 * Responses and streams are parsed as OpenAI's, which already normalises `reasoning` /
 * `reasoning_details` to `reasoning_content`, DeepSeek cache counts to `cached_tokens`, `choices: null`
 * to `[]`, unknown finish reasons to `stop`, and tolerates streams without a usage chunk.
 */
import { parseOpenAiChatResponse } from '../openai/chat.js';
import { joinUrl, jsonPost } from '../shared/http-request.js';
import type { ChatCompletion, ChatMessage, ChatRequest, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { bearerAuth, COMPATIBLE_PROVIDER_NAME } from './api.js';

function withMaxTokens(body: ChatRequest, field: string | undefined): ChatRequest {
  const limit = body.max_completion_tokens;
  if (limit === undefined || limit === null || field === 'max_completion_tokens') return body;
  if (field === 'max_tokens') {
    const { max_completion_tokens: _dropped, ...rest } = body;
    return { ...rest, max_tokens: body.max_tokens ?? limit };
  }
  return body.max_tokens === undefined || body.max_tokens === null ? { ...body, max_tokens: limit } : body;
}

function withoutReasoningHistory(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((message) => {
    if (message.role !== 'assistant' || !('reasoning_content' in message)) return message;
    const { reasoning_content: _dropped, ...rest } = message;
    return rest as ChatMessage;
  });
}

/** The upstream body for one channel (see the module comment for the options). */
export function toCompatibleRequestBody(request: ChatRequest, target: UpstreamTarget): ChatRequest {
  let body: ChatRequest = { ...request, model: target.upstreamModel };
  body = withMaxTokens(body, target.options.maxTokensField);
  if (target.options.reasoningHistory === 'drop') body = { ...body, messages: withoutReasoningHistory(body.messages) };
  return body;
}

/**
 * POST `${baseUrl}/chat/completions`; `Authorization: Bearer` only when the channel has a key
 * (Ollama and vLLM usually run without one).
 */
export function buildCompatibleChatRequest(request: ChatRequest, target: UpstreamTarget): UpstreamHttpRequest {
  return jsonPost(
    joinUrl(target.baseUrl, 'chat/completions'),
    target.headers,
    bearerAuth(target),
    toCompatibleRequestBody(request, target),
  );
}

export function parseCompatibleChatResponse(body: unknown, request: ChatRequest): ChatCompletion {
  return parseOpenAiChatResponse(body, request, COMPATIBLE_PROVIDER_NAME);
}
