import { createRequire } from 'node:module';
import { tokenCost } from '../core/money.js';
import type { ChatCompletionChunk, ChatMessage, ChatRequest, ChatUsage } from '../providers/types.js';
import type { ModelPrices } from './catalog.js';

/** Token counts of one request, as billed. */
export interface TokenCounts {
  prompt: number;
  completion: number;
  cached: number;
  reasoning: number;
  /** True when counted locally because the upstream reported no usage. */
  estimated: boolean;
}

export const ZERO_TOKENS: TokenCounts = { prompt: 0, completion: 0, cached: 0, reasoning: 0, estimated: false };

export function fromUsage(usage: ChatUsage): TokenCounts {
  return {
    prompt: usage.prompt_tokens ?? 0,
    completion: usage.completion_tokens ?? 0,
    cached: usage.prompt_tokens_details?.cached_tokens ?? 0,
    reasoning: usage.completion_tokens_details?.reasoning_tokens ?? 0,
    estimated: false,
  };
}

/**
 * Cost in micro-USD: uncached prompt tokens at the input price, cached prompt tokens at the cached price
 * (input price when the model has none), completion tokens (reasoning included) at the output price.
 */
export function costOf(tokens: TokenCounts, prices: ModelPrices): number {
  const cached = Math.min(tokens.cached, tokens.prompt);
  return (
    tokenCost(tokens.prompt - cached, prices.input) +
    tokenCost(cached, prices.cachedInput ?? prices.input) +
    tokenCost(tokens.completion, prices.output)
  );
}

type Encode = typeof import('gpt-tokenizer')['encode'];
let encode: Encode | undefined;

/**
 * The tokenizer, loaded on first use: its o200k vocabulary takes ~35 MiB of heap (~65 MiB of RSS), and it
 * is only needed when an upstream reports no usage (or a stream ends before it does). The first call pays
 * the load, a few hundred milliseconds, once per process.
 */
function tokenizer(): Encode {
  encode ??= (createRequire(import.meta.url)('gpt-tokenizer') as { encode: Encode }).encode;
  return encode;
}

export function countTokens(text: string): number {
  return text ? tokenizer()(text).length : 0;
}

function messageText(message: ChatMessage): string {
  let text = '';
  if (typeof message.content === 'string') text += message.content;
  else if (Array.isArray(message.content)) {
    for (const part of message.content) if (part.type === 'text' && typeof part.text === 'string') text += part.text;
  }
  for (const call of message.tool_calls ?? []) text += call.function.name + call.function.arguments;
  return text;
}

/** Prompt tokens as the tokenizer counts them (plus the ~4 tokens of framing each message costs). */
export function estimatePromptTokens(request: ChatRequest): number {
  let total = 0;
  for (const message of request.messages) total += countTokens(messageText(message)) + 4;
  if (request.tools) total += countTokens(JSON.stringify(request.tools));
  return total;
}

/** Accumulates what a stream produced, for estimation when the upstream never reports usage. */
export class OutputAccumulator {
  #text = '';
  #reasoning = '';

  add(chunk: ChatCompletionChunk): void {
    for (const choice of chunk.choices) {
      const d = choice.delta;
      if (d.content) this.#text += d.content;
      if (d.reasoning_content) this.#reasoning += d.reasoning_content;
      for (const call of d.tool_calls ?? [])
        this.#text += (call.function?.name ?? '') + (call.function?.arguments ?? '');
    }
  }

  addText(text: string): void {
    this.#text += text;
  }

  get empty(): boolean {
    return this.#text === '' && this.#reasoning === '';
  }

  estimate(request: ChatRequest): TokenCounts {
    const reasoning = countTokens(this.#reasoning);
    return {
      prompt: estimatePromptTokens(request),
      completion: countTokens(this.#text) + reasoning,
      cached: 0,
      reasoning,
      estimated: true,
    };
  }
}

/**
 * A fast, deliberately generous prompt-size guess for reserving budget before a request runs (no
 * tokenizer on the hot path): UTF-8 bytes / 2, 1000 tokens an image. Settlement uses real counts.
 */
export function approximatePromptTokens(request: ChatRequest): number {
  let bytes = 0;
  let images = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') bytes += Buffer.byteLength(message.content);
    else if (Array.isArray(message.content)) {
      for (const part of message.content) {
        if (part.type === 'text' && typeof part.text === 'string') bytes += Buffer.byteLength(part.text);
        else images++;
      }
    }
    for (const call of message.tool_calls ?? [])
      bytes += Buffer.byteLength(call.function.arguments) + call.function.name.length;
    bytes += 4; // per-message framing
  }
  if (request.tools) bytes += Buffer.byteLength(JSON.stringify(request.tools));
  // Tokenizers average no fewer than ~2 UTF-8 bytes a token (CJK: 3 bytes a character, at most ~1.5 tokens),
  // so bytes / 2 is a safe upper bound for a reservation.
  return Math.ceil(bytes / 2) + images * 1000;
}

/** The client's own cap on the answer, if it set one. */
export function requestedMaxOutput(request: ChatRequest): number | null {
  const value = request.max_completion_tokens ?? request.max_tokens;
  return typeof value === 'number' && value > 0 ? value : null;
}
