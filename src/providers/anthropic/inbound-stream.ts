/**
 * Canonical `chat.completion.chunk`s → Anthropic Messages SSE, for the gateway's `/v1/messages` endpoint.
 * Reference: PROTOCOLS.md §3.4 (event sequence: message_start, per-block start/delta/stop with indexes,
 * message_delta with stop_reason and cumulative usage, message_stop; `event: error` mid-stream), §6.2.
 */
import type { ChatCompletionChunk, ChatToolCallDelta, ChatUsage, FinishReason } from '../types.js';
import { toAnthropicError } from './inbound-errors.js';
import { toAnthropicMessageId, toAnthropicUsage, toStopReason } from './mapping.js';
import type { AnthropicStreamEventType } from './types.js';

/** Stateful encoder for one response stream; every method returns SSE text ready to write ('' when nothing is owed). */
export interface AnthropicStreamEncoder {
  /** Encodes one canonical chunk (content, reasoning, tool-call fragments, finish reason, usage). */
  push(chunk: ChatCompletionChunk): string;
  /** Closes the open block and writes message_delta + message_stop; `usage` overrides any seen in chunks. */
  end(usage?: ChatUsage | null): string;
  /** Writes an `event: error` for a failure after the HTTP 200 was sent; the stream is over afterwards. */
  error(info: { status: number; code: string; message: string }): string;
}

type OpenBlock = { kind: 'text' | 'thinking'; index: number } | { kind: 'tool'; index: number; toolIndex: number };

function sse(type: AnthropicStreamEventType, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * Creates the encoder. Blocks are opened lazily and a new block starts whenever the kind of content changes
 * (thinking → text → tool_use), so indexes are consecutive from 0. Fragments for a tool call whose block was
 * already closed are dropped: Anthropic cannot reopen a block, and OpenAI streams tool calls one after another.
 *
 * @example
 * const encoder = createAnthropicStreamEncoder('claude-sonnet-4', { id: 'chatcmpl-1' });
 * for (const chunk of chunks) write(encoder.push(chunk));
 * write(encoder.end());
 */
export function createAnthropicStreamEncoder(requestedModel: string, ids: { id: string }): AnthropicStreamEncoder {
  const messageId = toAnthropicMessageId(ids.id);
  let started = false;
  let closed = false;
  let nextIndex = 0;
  let open: OpenBlock | undefined;
  const toolBlocks = new Map<number, number>();
  let finishReason: FinishReason | null = null;
  let usage: ChatUsage | null = null;

  const start = (): string => {
    if (started) return '';
    started = true;
    const known = toAnthropicUsage(usage);
    return sse('message_start', {
      message: {
        id: messageId,
        type: 'message',
        role: 'assistant',
        model: requestedModel,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // Input tokens are known here only if the upstream reported usage early; message_delta repeats them.
        usage: { ...known, output_tokens: 0 },
      },
    });
  };

  const closeBlock = (): string => {
    if (!open) return '';
    const index = open.index;
    open = undefined;
    return sse('content_block_stop', { index });
  };

  const openBlock = (block: OpenBlock, contentBlock: Record<string, unknown>): string => {
    const out = closeBlock();
    open = block;
    nextIndex += 1;
    return out + sse('content_block_start', { index: block.index, content_block: contentBlock });
  };

  const textLike = (kind: 'text' | 'thinking', piece: string): string => {
    let out = '';
    if (open?.kind !== kind) {
      out += openBlock(
        { kind, index: nextIndex },
        kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
      );
    }
    const delta = kind === 'text' ? { type: 'text_delta', text: piece } : { type: 'thinking_delta', thinking: piece };
    return out + sse('content_block_delta', { index: open?.index ?? nextIndex - 1, delta });
  };

  const toolFragment = (fragment: ChatToolCallDelta): string => {
    let out = '';
    if (!toolBlocks.has(fragment.index)) {
      const block: OpenBlock = { kind: 'tool', index: nextIndex, toolIndex: fragment.index };
      toolBlocks.set(fragment.index, block.index);
      out += openBlock(block, {
        type: 'tool_use',
        id: fragment.id ?? `toolu_${messageId.slice('msg_'.length)}_${fragment.index}`,
        name: fragment.function?.name ?? '',
        input: {},
      });
    }
    const args = fragment.function?.arguments ?? '';
    if (args !== '' && open?.kind === 'tool' && open.toolIndex === fragment.index) {
      out += sse('content_block_delta', { index: open.index, delta: { type: 'input_json_delta', partial_json: args } });
    }
    return out;
  };

  const push = (chunk: ChatCompletionChunk): string => {
    if (closed) return '';
    if (chunk.usage) usage = chunk.usage;
    let out = start();
    const choice = chunk.choices.find((candidate) => candidate.index === 0);
    if (!choice) return out;
    const { delta } = choice;
    if (delta.reasoning_content) out += textLike('thinking', delta.reasoning_content);
    if (delta.content) out += textLike('text', delta.content);
    if (delta.refusal) out += textLike('text', delta.refusal);
    for (const fragment of delta.tool_calls ?? []) out += toolFragment(fragment);
    if (choice.finish_reason) {
      finishReason = choice.finish_reason;
      out += closeBlock();
    }
    return out;
  };

  const end = (finalUsage?: ChatUsage | null): string => {
    if (closed) return '';
    if (finalUsage) usage = finalUsage;
    let out = start() + closeBlock();
    closed = true;
    const counts = toAnthropicUsage(usage);
    out += sse('message_delta', {
      delta: { stop_reason: toStopReason(finishReason, toolBlocks.size > 0), stop_sequence: null },
      // Cumulative usage; input and cache counts are repeated because message_start may have had none yet.
      usage: usage
        ? {
            input_tokens: counts.input_tokens,
            output_tokens: counts.output_tokens,
            cache_creation_input_tokens: counts.cache_creation_input_tokens,
            cache_read_input_tokens: counts.cache_read_input_tokens,
          }
        : { output_tokens: 0 },
    });
    return out + sse('message_stop', {});
  };

  const error = (info: { status: number; code: string; message: string }): string => {
    if (closed) return '';
    closed = true;
    return sse('error', { error: toAnthropicError(info.status, info.code, info.message).error });
  };

  return { push, end, error };
}
