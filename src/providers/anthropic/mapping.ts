/**
 * Field mappings shared by both directions (OpenAI ⇄ Anthropic): stop reasons, usage, reasoning effort.
 * Reference: PROTOCOLS.md §6 (mapping table, §6.1 stop reasons, §6.3 item 9 usage normalization).
 */
import type { ChatUsage, FinishReason, ReportedUsage } from '../types.js';
import { isRecord, readNumber, readRecord, type UnknownRecord } from './read-json.js';
import type { AnthropicStopReason, AnthropicUsage } from './types.js';

/** Anthropic `stop_reason` → OpenAI `finish_reason`. `pause_turn` ends this response normally. */
export function toFinishReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn and any future value.
      return 'stop';
  }
}

/** OpenAI `finish_reason` → Anthropic `stop_reason`. A tool call wins over a plain `stop`. */
export function toStopReason(
  finishReason: FinishReason | null | undefined,
  hasToolCalls: boolean,
): AnthropicStopReason {
  if (
    hasToolCalls &&
    (finishReason === 'tool_calls' ||
      finishReason === 'function_call' ||
      finishReason === 'stop' ||
      finishReason == null)
  ) {
    return 'tool_use';
  }
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** Token counts as Anthropic reports them; missing or null fields count as 0. */
export interface AnthropicTokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  thinking: number | undefined;
}

export const EMPTY_TOKEN_COUNTS: AnthropicTokenCounts = {
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheCreation: 0,
  thinking: undefined,
};

/**
 * Reads an Anthropic usage object, keeping values from `previous` for fields that are absent or null.
 * Stream usage is cumulative (message_start carries input, message_delta the running output total), so
 * merging field by field gives the final counts.
 */
export function readTokenCounts(
  usage: unknown,
  previous: AnthropicTokenCounts = EMPTY_TOKEN_COUNTS,
): AnthropicTokenCounts {
  if (!isRecord(usage)) return previous;
  const details: UnknownRecord | undefined = readRecord(usage, 'output_tokens_details');
  return {
    input: readNumber(usage, 'input_tokens') ?? previous.input,
    output: readNumber(usage, 'output_tokens') ?? previous.output,
    cacheRead: readNumber(usage, 'cache_read_input_tokens') ?? previous.cacheRead,
    cacheCreation: readNumber(usage, 'cache_creation_input_tokens') ?? previous.cacheCreation,
    thinking: (details && readNumber(details, 'thinking_tokens')) ?? previous.thinking,
  };
}

/**
 * What the upstream has reported: input and cache counts once `message_start` came (its `output_tokens` is
 * a placeholder, typically 1), the output count only from `message_delta`.
 */
export function reportedOf(counts: AnthropicTokenCounts, sawInput: boolean, sawOutput: boolean): ReportedUsage {
  const reported: ReportedUsage = {};
  if (sawInput) {
    reported.prompt = counts.input + counts.cacheRead + counts.cacheCreation;
    reported.cached = counts.cacheRead;
  }
  if (sawOutput) {
    reported.completion = counts.output;
    if (counts.thinking !== undefined) reported.reasoning = counts.thinking;
  }
  return reported;
}

/** Anthropic counts → OpenAI usage. Anthropic `input_tokens` excludes cached tokens; OpenAI's prompt_tokens includes them. */
export function toChatUsage(counts: AnthropicTokenCounts): ChatUsage {
  const promptTokens = counts.input + counts.cacheRead + counts.cacheCreation;
  const usage: ChatUsage = {
    prompt_tokens: promptTokens,
    completion_tokens: counts.output,
    total_tokens: promptTokens + counts.output,
    prompt_tokens_details: { cached_tokens: counts.cacheRead, cache_write_tokens: counts.cacheCreation },
  };
  if (counts.thinking !== undefined) usage.completion_tokens_details = { reasoning_tokens: counts.thinking };
  return usage;
}

/** OpenAI usage → Anthropic usage: cached and cache-write tokens are split back out of prompt_tokens. */
export function toAnthropicUsage(usage: ChatUsage | null | undefined): AnthropicUsage {
  if (!usage) return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const cacheRead = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheCreation = usage.prompt_tokens_details?.cache_write_tokens ?? 0;
  return {
    input_tokens: Math.max(0, usage.prompt_tokens - cacheRead - cacheCreation),
    output_tokens: usage.completion_tokens,
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
  };
}

/**
 * Thinking budgets per OpenAI `reasoning_effort`. Anthropic requires 1024 ≤ budget < max_tokens
 * (SDK `ThinkingConfigEnabled`). `none` means no thinking. The numbers are a gateway choice, not an
 * Anthropic recommendation.
 */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 24576,
  max: 32768,
};

export const MIN_THINKING_BUDGET = 1024;

/** Inverse of THINKING_BUDGETS, rounded to the three efforts every OpenAI-style model accepts. */
export function effortForBudget(budgetTokens: number): 'low' | 'medium' | 'high' {
  if (budgetTokens < 4096) return 'low';
  if (budgetTokens < 12288) return 'medium';
  return 'high';
}

/** `msg_…` id derived from a canonical completion id (`chatcmpl-abc` → `msg_abc`). */
export function toAnthropicMessageId(id: string): string {
  if (id.startsWith('msg_')) return id;
  return `msg_${id.startsWith('chatcmpl-') ? id.slice('chatcmpl-'.length) : id}`;
}
