import { tokenCost } from '../core/money.js';
import type {
  ChatCompletionChunk,
  ChatMessage,
  ChatRequest,
  ChatUsage,
  PromptOverhead,
  ReportedUsage,
} from '../providers/types.js';
import type { ModelPrices } from './catalog.js';
import { TokenCounter } from './tokenizer.js';
import { type BillableUnits, unitCost } from './unit-prices.js';

/** Token counts of one request, as billed. */
export interface TokenCounts {
  prompt: number;
  completion: number;
  cached: number;
  reasoning: number;
  /** True when counted locally because the upstream reported no usage. */
  estimated: boolean;
  /** Images, seconds, characters or search units produced (endpoints billed per unit). */
  units?: BillableUnits | undefined;
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
 * Cost in micro-USD: units the model has a per-unit price for (images, seconds, characters, search units)
 * at those prices; otherwise uncached prompt tokens at the input price, cached prompt tokens at the cached
 * price (input price when the model has none), completion tokens (reasoning included) at the output price.
 */
export function costOf(tokens: TokenCounts, prices: ModelPrices): number {
  const byUnits = tokens.units ? unitCost(tokens.units, prices.units ?? null) : null;
  if (byUnits !== null) return byUnits;
  const cached = Math.min(tokens.cached, tokens.prompt);
  return (
    tokenCost(tokens.prompt - cached, prices.input) +
    tokenCost(cached, prices.cachedInput ?? prices.input) +
    tokenCost(tokens.completion, prices.output)
  );
}

/** The tokenizer, in a worker thread started on first use (see TokenCounter). */
const tokenCounter = new TokenCounter();

/** Tokens of `text` as gpt-tokenizer (o200k) counts them. */
export async function countTokens(text: string): Promise<number> {
  const [count] = await tokenCounter.count([text]);
  return count ?? 0;
}

/** Token counts of several texts in one round trip to the tokenizer. */
export function countTokensOf(texts: string[]): Promise<number[]> {
  return tokenCounter.count(texts);
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

/** The texts whose tokens make up a prompt (messages, then tools), and the framing tokens around them. */
function promptTexts(request: ChatRequest): { texts: string[]; framing: number } {
  const texts = request.messages.map(messageText);
  if (request.tools) texts.push(JSON.stringify(request.tools));
  // ~4 tokens of framing per message.
  return { texts, framing: 4 * request.messages.length };
}

function sum(values: number[]): number {
  let total = 0;
  for (const value of values) total += value;
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

  addReasoning(text: string): void {
    this.#reasoning += text;
  }

  get empty(): boolean {
    return this.#text === '' && this.#reasoning === '';
  }

  /**
   * Prompt and output tokens, counted by the tokenizer (one round trip for all texts). Figures the upstream
   * did report (`reported`) are used as they are; only the others are counted.
   */
  async estimate(request: ChatRequest, reported: ReportedUsage = {}): Promise<TokenCounts> {
    const { texts, framing } = reported.prompt === undefined ? promptTexts(request) : { texts: [], framing: 0 };
    const [reasoning = 0, text = 0, ...prompt] = await countTokensOf([this.#reasoning, this.#text, ...texts]);
    return withReported(
      { prompt: sum(prompt) + framing, completion: text + reasoning, cached: 0, reasoning, estimated: true },
      reported,
    );
  }
}

/**
 * An estimate with every figure the upstream reported put in its place (e.g. the input and cache counts of
 * Anthropic's message_start in a stream cut off before its end); it stays `estimated` unless both the
 * prompt and the completion were reported.
 */
export function withReported(estimate: TokenCounts, reported: ReportedUsage): TokenCounts {
  const completion = reported.completion ?? estimate.completion;
  return {
    prompt: reported.prompt ?? estimate.prompt,
    completion,
    // A reported prompt without a cache figure had no cache hit to report; the estimate never has one.
    cached: reported.cached ?? 0,
    reasoning: reported.reasoning ?? Math.min(estimate.reasoning, completion),
    estimated: reported.prompt === undefined || reported.completion === undefined,
  };
}

/**
 * A fast, deliberately generous guess of a prompt's own text for reserving budget before a request runs (no
 * tokenizer on the hot path): UTF-8 bytes / 2, 1000 tokens an image. The chat template's framing is added
 * from the provider's figures (`templateTokens`). Settlement uses real counts.
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
  }
  if (request.tools) bytes += Buffer.byteLength(JSON.stringify(request.tools));
  // Tokenizers average no fewer than ~2 UTF-8 bytes a token (CJK: 3 bytes a character, at most ~1.5 tokens),
  // so bytes / 2 is a safe upper bound for a reservation.
  return Math.ceil(bytes / 2) + images * 1000;
}

/** What a chat template wraps: how many messages, and whether tools are declared. */
export interface PromptShape {
  messages: number;
  tools: boolean;
}

export function promptShape(request: ChatRequest): PromptShape {
  return { messages: request.messages.length, tools: (request.tools?.length ?? 0) > 0 };
}

/**
 * Tokens a provider's chat template adds around a prompt of this shape. Without them a burst of tiny
 * prompts reserves far less than it is billed ("Say hello": 5 tokens guessed, 10–30 billed).
 */
export function templateTokens(overhead: PromptOverhead, shape: PromptShape): number {
  return overhead.perRequest + overhead.perMessage * shape.messages + (shape.tools ? overhead.withTools : 0);
}

/** The client's own cap on the answer, if it set one. */
export function requestedMaxOutput(request: ChatRequest): number | null {
  const value = request.max_completion_tokens ?? request.max_tokens;
  return typeof value === 'number' && value > 0 ? value : null;
}
