/**
 * Anthropic Messages response → OpenAI Chat Completion.
 * Reference: PROTOCOLS.md §3.3 (response, stop_reason, usage), §6.1 (stop reasons).
 */
import { ApiError } from '../../core/errors.js';
import type { ChatCompletion, ChatRequest, ChatToolCall } from '../types.js';
import { readTokenCounts, toChatUsage, toFinishReason } from './mapping.js';
import { isRecord, readArray, readString } from './read-json.js';

/** Ids the gateway assigns to the canonical response; a pure transform cannot invent them. */
export interface CompletionIds {
  id: string;
  created: number;
}

/**
 * Converts a parsed Anthropic `message` body. Text blocks are joined into `content`, thinking blocks into
 * `reasoning_content`, tool_use blocks become `tool_calls` (input re-serialized as the JSON string OpenAI
 * uses). Without `ids`, the Anthropic message id is kept and `created` is 0 for the caller to fill in.
 */
export function parseChatResponse(body: unknown, request: ChatRequest, ids?: CompletionIds): ChatCompletion {
  if (!isRecord(body) || body.type !== 'message') {
    const errorType = isRecord(body) && isRecord(body.error) ? readString(body.error, 'type') : undefined;
    throw new ApiError(
      'upstream_error',
      `Anthropic returned an unexpected response body${errorType ? ` (${errorType})` : ''}`,
    );
  }
  let text = '';
  let reasoning = '';
  let hasText = false;
  const toolCalls: ChatToolCall[] = [];
  for (const block of readArray(body, 'content')) {
    if (!isRecord(block)) continue;
    if (block.type === 'text') {
      text += readString(block, 'text') ?? '';
      hasText = true;
    } else if (block.type === 'thinking') {
      reasoning += readString(block, 'thinking') ?? '';
    } else if (block.type === 'tool_use') {
      toolCalls.push({
        id: readString(block, 'id') ?? '',
        type: 'function',
        function: { name: readString(block, 'name') ?? '', arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // redacted_thinking, server tool blocks and future block types have no OpenAI representation.
  }

  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: hasText ? text : null };
  if (reasoning !== '') message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;

  return {
    id: ids?.id ?? readString(body, 'id') ?? '',
    object: 'chat.completion',
    created: ids?.created ?? 0,
    model: readString(body, 'model') ?? request.model,
    choices: [{ index: 0, message, finish_reason: toFinishReason(readString(body, 'stop_reason')), logprobs: null }],
    usage: toChatUsage(readTokenCounts(body.usage)),
  };
}
