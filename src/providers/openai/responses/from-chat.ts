/**
 * Canonical chat answer → Responses API response object (for translated channels), and the usage
 * mapping both ways. Reference: OpenAI API reference, "The response object".
 */
import { isRecord, readNumber, readRecord } from '../../shared/json.js';
import type { ChatCompletion, ChatUsage, FinishReason, JsonValue } from '../../types.js';
import type { OutputItem, ResponseObject, ResponseStatus, ResponsesRequest, ResponsesUsage } from './types.js';

/** Ids of one response and its items (injected: the transforms stay pure). */
export interface ResponseIds {
  /** `resp_…` */
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
}

/** The id of output item `index` of response `responseId` (`msg_…`, `fc_…`, `rs_…`). */
export function itemId(prefix: 'msg' | 'fc' | 'rs', responseId: string, index: number): string {
  return `${prefix}_${responseId.replace(/^resp_/, '')}${index.toString(16).padStart(2, '0')}`;
}

/** Chat usage → Responses usage. */
export function toResponsesUsage(usage: ChatUsage): ResponsesUsage {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** A Responses `usage` object (from an upstream) → chat usage; undefined when it is not one. */
export function fromResponsesUsage(raw: unknown): ChatUsage | undefined {
  if (!isRecord(raw)) return undefined;
  const input = readNumber(raw, 'input_tokens');
  const output = readNumber(raw, 'output_tokens');
  if (input === undefined || output === undefined) return undefined;
  const cached = readNumber(readRecord(raw, 'input_tokens_details') ?? {}, 'cached_tokens');
  const reasoning = readNumber(readRecord(raw, 'output_tokens_details') ?? {}, 'reasoning_tokens');
  const usage: ChatUsage = {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: readNumber(raw, 'total_tokens') ?? input + output,
  };
  if (cached !== undefined) usage.prompt_tokens_details = { cached_tokens: cached };
  if (reasoning !== undefined) usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}

/** Status and incomplete reason for a chat finish reason. */
export function statusOf(finish: FinishReason | null): {
  status: ResponseStatus;
  incomplete: { reason: string } | null;
} {
  if (finish === 'length') return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete: { reason: 'content_filter' } };
  return { status: 'completed', incomplete: null };
}

/** The response object with everything but its output, status and usage (echoes the request's settings). */
export function responseShell(request: ResponsesRequest, ids: ResponseIds, model: string): ResponseObject {
  return {
    id: ids.id,
    object: 'response',
    created_at: ids.createdAt,
    status: 'in_progress',
    background: request.background === true,
    error: null,
    incomplete_details: null,
    instructions: typeof request.instructions === 'string' ? request.instructions : null,
    max_output_tokens: typeof request.max_output_tokens === 'number' ? request.max_output_tokens : null,
    metadata: request.metadata ?? {},
    model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls !== false,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    store: request.store !== false,
    temperature: typeof request.temperature === 'number' ? request.temperature : 1,
    text: { format: request.text?.format ?? { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: typeof request.top_p === 'number' ? request.top_p : 1,
    truncation: typeof request.truncation === 'string' ? request.truncation : 'disabled',
    usage: null,
    user: typeof request.user === 'string' ? request.user : null,
  };
}

export function reasoningItem(id: string, summary: string): OutputItem {
  return { id, type: 'reasoning', summary: summary ? [{ type: 'summary_text', text: summary }] : [] };
}

export function messageItem(id: string, text: string, refusal: string, status = 'completed'): OutputItem {
  const content: JsonValue[] = [];
  if (text || !refusal) content.push({ type: 'output_text', annotations: [], logprobs: [], text });
  if (refusal) content.push({ type: 'refusal', refusal });
  return { id, type: 'message', status, role: 'assistant', content };
}

export function functionCallItem(
  id: string,
  callId: string,
  name: string,
  args: string,
  status = 'completed',
): OutputItem {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name };
}

/** A complete response object for a canonical (non-stream) completion. */
export function chatToResponse(
  completion: ChatCompletion,
  request: ResponsesRequest,
  ids: ResponseIds,
  model: string,
): ResponseObject {
  const response = responseShell(request, ids, model);
  const choice = completion.choices[0];
  const output: OutputItem[] = [];
  if (choice) {
    const { message } = choice;
    if (message.reasoning_content)
      output.push(reasoningItem(itemId('rs', ids.id, output.length), message.reasoning_content));
    if (message.content || message.refusal || !message.tool_calls?.length)
      output.push(messageItem(itemId('msg', ids.id, output.length), message.content ?? '', message.refusal ?? ''));
    for (const call of message.tool_calls ?? [])
      output.push(
        functionCallItem(itemId('fc', ids.id, output.length), call.id, call.function.name, call.function.arguments),
      );
  }
  const { status, incomplete } = statusOf(choice?.finish_reason ?? 'stop');
  response.status = status;
  response.incomplete_details = incomplete;
  response.output = output;
  response.usage = completion.usage ? toResponsesUsage(completion.usage) : null;
  return response;
}
