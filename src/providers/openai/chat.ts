/**
 * OpenAI Chat Completions: the canonical format itself, so the request is passed through with only the
 * model replaced, and responses are validated and normalised rather than translated.
 * Reference: PROTOCOLS.md §1.2, §1.3.
 */
import { joinUrl, jsonPost } from '../shared/http-request.js';
import { isRecord, readArray, readNumber, readString, type UnknownRecord } from '../shared/json.js';
import { normaliseReasoning } from '../shared/reasoning.js';
import { InvalidUpstreamResponseError, invalidResponse } from '../shared/stream-error.js';
import { normaliseUsage } from '../shared/usage.js';
import type { ChatCompletion, ChatRequest, FinishReason, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { bearerAuth } from './api.js';
import { openAiStreamErrorInfo } from './errors.js';

const FINISH_REASONS: ReadonlySet<string> = new Set([
  'stop',
  'length',
  'tool_calls',
  'content_filter',
  'function_call',
]);

/** Reads a finish reason; unknown strings (some servers invent their own) become `stop`. */
export function readFinishReason(value: unknown): FinishReason | null {
  if (typeof value !== 'string' || value === '') return null;
  return FINISH_REASONS.has(value) ? (value as FinishReason) : 'stop';
}

/** The upstream body: the canonical request with `model` replaced by the channel's upstream model. */
export function toOpenAiRequestBody(request: ChatRequest, upstreamModel: string): ChatRequest {
  return { ...request, model: upstreamModel };
}

/**
 * POST `${baseUrl}/chat/completions` with `Authorization: Bearer`.
 * @example buildOpenAiChatRequest(request, target).url // 'https://api.openai.com/v1/chat/completions'
 */
export function buildOpenAiChatRequest(request: ChatRequest, target: UpstreamTarget): UpstreamHttpRequest {
  return jsonPost(
    joinUrl(target.baseUrl, 'chat/completions'),
    target.headers,
    bearerAuth(target),
    toOpenAiRequestBody(request, target.upstreamModel),
  );
}

function normaliseChoice(raw: unknown, position: number, provider: string): ChatCompletion['choices'][number] {
  if (!isRecord(raw) || !isRecord(raw.message)) throw invalidResponse(provider, `choice ${position} has no message`);
  const message = normaliseReasoning(raw.message);
  const content = message.content;
  return {
    ...raw,
    index: readNumber(raw, 'index') ?? position,
    message: {
      ...message,
      role: 'assistant',
      // Some servers send content parts or omit content; the canonical message has a string or null.
      content: typeof content === 'string' ? content : textOfParts(content),
    } as ChatCompletion['choices'][number]['message'],
    finish_reason: readFinishReason(raw.finish_reason),
  };
}

function textOfParts(content: unknown): string | null {
  if (!Array.isArray(content)) return null;
  const texts = content.filter(isRecord).map((part) => readString(part, 'text') ?? '');
  return texts.length === 0 ? null : texts.join('');
}

/**
 * Validates a non-stream response minimally and returns it normalised: reasoning under
 * `reasoning_content`, usage via {@link normaliseUsage}, missing ids defaulted. Unknown fields are kept.
 * Throws {@link InvalidUpstreamResponseError} for a body without choices (or an error object sent with
 * HTTP 200, which some compatible servers do).
 */
export function parseOpenAiChatResponse(body: unknown, request: ChatRequest, provider = 'OpenAI'): ChatCompletion {
  if (!isRecord(body)) throw invalidResponse(provider, 'the body is not a JSON object');
  if (body.error !== undefined && body.error !== null && !Array.isArray(body.choices)) {
    throw new InvalidUpstreamResponseError(openAiStreamErrorInfo(body.error, provider));
  }
  if (!Array.isArray(body.choices)) throw invalidResponse(provider, 'the body has no choices array');
  const completion: UnknownRecord = {
    ...body,
    id: readString(body, 'id') ?? '',
    object: 'chat.completion',
    created: readNumber(body, 'created') ?? 0,
    model: readString(body, 'model') || request.model,
    choices: readArray(body, 'choices').map((choice, i) => normaliseChoice(choice, i, provider)),
  };
  const usage = normaliseUsage(body.usage);
  if (usage) completion.usage = usage;
  else delete completion.usage;
  return completion as ChatCompletion;
}
