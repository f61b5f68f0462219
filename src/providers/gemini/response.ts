/**
 * Gemini `GenerateContentResponse` → canonical ChatCompletion. Reference: PROTOCOLS.md §4.3, §6.1,
 * §6.3 item 9:
 * - parts with `thought: true` → `reasoning_content`; other text → `content`;
 * - `functionCall` parts → `tool_calls`, arguments stringified; Gemini's own `id` is used when present,
 *   else a deterministic id from the response id, candidate and call position; a `thoughtSignature`
 *   rides along as `extra_content.google.thought_signature`;
 * - `finishReason`: STOP → stop (tool_calls when calls are present), MAX_TOKENS → length, safety-type
 *   reasons → content_filter, anything else → stop; a blocked prompt (no candidates) → content_filter;
 * - usage: prompt = promptTokenCount (+ toolUsePromptTokenCount), completion = candidatesTokenCount +
 *   thoughtsTokenCount, cached = cachedContentTokenCount, reasoning = thoughtsTokenCount.
 */
import { isRecord, readArray, readNumber, readRecord, readString, type UnknownRecord } from '../shared/json.js';
import { InvalidUpstreamResponseError, invalidResponse } from '../shared/stream-error.js';
import type { ChatCompletion, ChatRequest, ChatToolCall, ChatUsage, FinishReason } from '../types.js';
import { geminiStreamErrorInfo } from './errors.js';
import type { GeminiExtraContent } from './types.js';

export const GEMINI_PROVIDER_NAME = 'Gemini';

const CONTENT_FILTER_REASONS: ReadonlySet<string> = new Set([
  'SAFETY',
  'RECITATION',
  'LANGUAGE',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Maps `finishReason`; undefined while the candidate is still going (streams). */
export function geminiFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason | null {
  if (reason === undefined || reason === '' || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/** `usageMetadata` → OpenAI usage, or undefined when absent. */
export function readUsageMetadata(raw: unknown): ChatUsage | undefined {
  if (!isRecord(raw)) return undefined;
  const prompt = (readNumber(raw, 'promptTokenCount') ?? 0) + (readNumber(raw, 'toolUsePromptTokenCount') ?? 0);
  const thoughts = readNumber(raw, 'thoughtsTokenCount');
  const completion = (readNumber(raw, 'candidatesTokenCount') ?? 0) + (thoughts ?? 0);
  const usage: ChatUsage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: readNumber(raw, 'totalTokenCount') ?? prompt + completion,
  };
  const cached = readNumber(raw, 'cachedContentTokenCount');
  if (cached !== undefined) usage.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts !== undefined) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

/** What one candidate (or one streamed fragment of it) carries. */
export interface CandidateParts {
  content: string;
  reasoning: string;
  toolCalls: ChatToolCall[];
}

/** A canonical tool call from a `functionCall` part. `fallbackId` is used when Gemini sent no id. */
export function toolCallFromPart(part: UnknownRecord, call: UnknownRecord, fallbackId: string): ChatToolCall {
  const toolCall: ChatToolCall & { extra_content?: GeminiExtraContent } = {
    id: readString(call, 'id') || fallbackId,
    type: 'function',
    function: { name: readString(call, 'name') ?? '', arguments: JSON.stringify(isRecord(call.args) ? call.args : {}) },
  };
  const signature = readString(part, 'thoughtSignature');
  if (signature) toolCall.extra_content = { google: { thought_signature: signature } };
  return toolCall;
}

/**
 * Reads a candidate's parts. `toolIdFor(n)` names the n-th call of this candidate (counting calls
 * already seen, in streams).
 */
export function readCandidateParts(candidate: UnknownRecord, toolIdFor: (n: number) => string): CandidateParts {
  const result: CandidateParts = { content: '', reasoning: '', toolCalls: [] };
  const content = readRecord(candidate, 'content');
  for (const part of content ? readArray(content, 'parts') : []) {
    if (!isRecord(part)) continue;
    if (isRecord(part.functionCall)) {
      result.toolCalls.push(toolCallFromPart(part, part.functionCall, toolIdFor(result.toolCalls.length)));
    } else if (typeof part.text === 'string') {
      if (part.thought === true) result.reasoning += part.text;
      else result.content += part.text;
    }
  }
  return result;
}

/** The prompt block reason of a response with no candidates, if any. */
export function promptBlockReason(body: UnknownRecord): string | undefined {
  const feedback = readRecord(body, 'promptFeedback');
  return feedback ? readString(feedback, 'blockReason') : undefined;
}

/** Deterministic tool-call id when Gemini sends none. */
export function syntheticToolCallId(responseId: string, candidateIndex: number, callIndex: number): string {
  return `call_${responseId}_${candidateIndex}_${callIndex}`;
}

function createdFrom(body: UnknownRecord): number {
  const createTime = readString(body, 'createTime');
  const ms = createTime === undefined ? Number.NaN : Date.parse(createTime);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/**
 * Parses a non-stream response. The completion id is `chatcmpl-<responseId>`; `created` comes from
 * `createTime` (Vertex sends it; the Gemini API usually does not, then 0) unless `ids` are given —
 * the gateway may overwrite both with its own.
 */
export function parseGeminiResponse(
  body: unknown,
  request: ChatRequest,
  ids?: { id: string; created: number },
): ChatCompletion {
  if (!isRecord(body)) throw invalidResponse(GEMINI_PROVIDER_NAME, 'the body is not a JSON object');
  if (isRecord(body.error)) throw new InvalidUpstreamResponseError(geminiStreamErrorInfo(body.error));
  const responseId = readString(body, 'responseId');
  const idBase = responseId ?? ids?.id ?? 'gemini';
  const candidates = readArray(body, 'candidates').filter(isRecord);
  const blockReason = promptBlockReason(body);
  if (candidates.length === 0 && blockReason === undefined)
    throw invalidResponse(GEMINI_PROVIDER_NAME, 'no candidates');
  const choices: ChatCompletion['choices'] =
    candidates.length === 0
      ? [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' }]
      : candidates.map((candidate, position) => {
          const index = readNumber(candidate, 'index') ?? position;
          const parts = readCandidateParts(candidate, (n) => syntheticToolCallId(idBase, index, n));
          const hasToolCalls = parts.toolCalls.length > 0;
          return {
            index,
            message: {
              role: 'assistant',
              content: parts.content === '' && hasToolCalls ? null : parts.content,
              ...(parts.reasoning === '' ? {} : { reasoning_content: parts.reasoning }),
              ...(hasToolCalls ? { tool_calls: parts.toolCalls } : {}),
            },
            finish_reason: geminiFinishReason(readString(candidate, 'finishReason'), hasToolCalls) ?? 'stop',
          };
        });
  const usage = readUsageMetadata(body.usageMetadata);
  return {
    id: responseId ? `chatcmpl-${responseId}` : (ids?.id ?? 'chatcmpl-gemini'),
    object: 'chat.completion',
    created: ids?.created ?? createdFrom(body),
    model: readString(body, 'modelVersion') || request.model,
    choices,
    ...(usage ? { usage } : {}),
  };
}
