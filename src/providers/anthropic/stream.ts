/**
 * Anthropic Messages SSE stream → OpenAI `chat.completion.chunk`s.
 * Reference: PROTOCOLS.md §3.4 (event sequence, delta types, cumulative usage, errors), §6.2 (correspondences),
 * §1.4 (OpenAI chunk shapes: first chunk with role, tool-call fragments, finish chunk, usage chunk).
 */
import type {
  ChatCompletionChunk,
  ChatRequest,
  ChatToolCallDelta,
  FinishReason,
  SseEvent,
  StreamTranslator,
} from '../types.js';
import { errorInfoFor, readErrorBody, UpstreamStreamError } from './errors.js';
import {
  type AnthropicTokenCounts,
  EMPTY_TOKEN_COUNTS,
  readTokenCounts,
  reportedOf,
  toChatUsage,
  toFinishReason,
} from './mapping.js';
import { isRecord, parseJson, readNumber, readRecord, readString, type UnknownRecord } from './read-json.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/** What one Anthropic content block (by its stream index) turns into. */
type BlockState =
  | { kind: 'text' }
  | { kind: 'thinking' }
  | { kind: 'tool'; toolIndex: number; sawInputDelta: boolean; startInput: unknown }
  | { kind: 'ignored' };

interface TranslatorState {
  model: string;
  started: boolean;
  finished: boolean;
  blocks: Map<number, BlockState>;
  /** OpenAI tool-call index: counts tool_use blocks only, not every content block. */
  nextToolIndex: number;
  stopReason: string | undefined;
  usage: AnthropicTokenCounts;
  /** message_start came (its input and cache counts are final). */
  sawInput: boolean;
  /** message_delta reported the output count (message_start's is a placeholder). */
  sawOutput: boolean;
}

/**
 * Creates the translator for one upstream stream. Every chunk shares `ids.id` and `ids.created`.
 * `push` throws UpstreamStreamError on an `error` event; after `message_stop` (or `end()`) the finish chunk
 * and a usage chunk (`choices: []`) have been emitted — the gateway decides whether to forward usage.
 *
 * @example
 * const translator = createStreamTranslator(request, { id: 'chatcmpl-1', created: 1727346182 });
 * for (const event of events) send(translator.push(event));
 * send(translator.end());
 */
export function createStreamTranslator(request: ChatRequest, ids: { id: string; created: number }): StreamTranslator {
  const state: TranslatorState = {
    model: request.model,
    started: false,
    finished: false,
    blocks: new Map(),
    nextToolIndex: 0,
    stopReason: undefined,
    usage: EMPTY_TOKEN_COUNTS,
    sawInput: false,
    sawOutput: false,
  };

  const chunk = (delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
    id: ids.id,
    object: 'chat.completion.chunk',
    created: ids.created,
    model: state.model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });

  const toolDelta = (fragment: ChatToolCallDelta): ChatCompletionChunk => chunk({ tool_calls: [fragment] });

  /** The role chunk OpenAI sends first; also emitted lazily if a stream skips message_start. */
  const ensureStarted = (out: ChatCompletionChunk[]): void => {
    if (state.started) return;
    state.started = true;
    out.push(chunk({ role: 'assistant', content: '' }));
  };

  const finish = (): ChatCompletionChunk[] => {
    if (state.finished || !state.started) return [];
    state.finished = true;
    const finishChunk = chunk({}, toFinishReason(state.stopReason));
    // Without an output count the usage is not final: the gateway estimates the output and keeps the input.
    if (!state.sawOutput) return [finishChunk];
    return [finishChunk, { ...chunk({}), choices: [], usage: toChatUsage(state.usage) }];
  };

  const onBlockStart = (data: UnknownRecord, out: ChatCompletionChunk[]): void => {
    const index = readNumber(data, 'index') ?? state.blocks.size;
    const block = readRecord(data, 'content_block') ?? {};
    ensureStarted(out);
    switch (block.type) {
      case 'text': {
        state.blocks.set(index, { kind: 'text' });
        const text = readString(block, 'text') ?? '';
        if (text !== '') out.push(chunk({ content: text }));
        break;
      }
      case 'thinking': {
        state.blocks.set(index, { kind: 'thinking' });
        const thinking = readString(block, 'thinking') ?? '';
        if (thinking !== '') out.push(chunk({ reasoning_content: thinking }));
        break;
      }
      case 'tool_use': {
        const toolIndex = state.nextToolIndex++;
        state.blocks.set(index, { kind: 'tool', toolIndex, sawInputDelta: false, startInput: block.input });
        out.push(
          toolDelta({
            index: toolIndex,
            id: readString(block, 'id') ?? '',
            type: 'function',
            function: { name: readString(block, 'name') ?? '', arguments: '' },
          }),
        );
        break;
      }
      default:
        // redacted_thinking, server_tool_use, web_search_tool_result, …: nothing an OpenAI client can use.
        state.blocks.set(index, { kind: 'ignored' });
    }
  };

  const onBlockDelta = (data: UnknownRecord, out: ChatCompletionChunk[]): void => {
    const block = state.blocks.get(readNumber(data, 'index') ?? -1);
    const delta = readRecord(data, 'delta') ?? {};
    if (!block) return;
    if (delta.type === 'text_delta' && block.kind === 'text') {
      const text = readString(delta, 'text') ?? '';
      if (text !== '') out.push(chunk({ content: text }));
    } else if (delta.type === 'thinking_delta' && block.kind === 'thinking') {
      const thinking = readString(delta, 'thinking') ?? '';
      if (thinking !== '') out.push(chunk({ reasoning_content: thinking }));
    } else if (delta.type === 'input_json_delta' && block.kind === 'tool') {
      block.sawInputDelta = true;
      const partial = readString(delta, 'partial_json') ?? '';
      // The first piece is often "" (recorded SDK fixture); an empty fragment carries nothing.
      if (partial !== '') out.push(toolDelta({ index: block.toolIndex, function: { arguments: partial } }));
    }
    // signature_delta and citations_delta have no OpenAI equivalent.
  };

  const onBlockStop = (data: UnknownRecord, out: ChatCompletionChunk[]): void => {
    const block = state.blocks.get(readNumber(data, 'index') ?? -1);
    // A tool_use block normally starts with `input: {}` and streams its JSON; if a (proxied) upstream put the
    // whole input in the start event instead, send it now so the arguments are not lost.
    if (
      block?.kind === 'tool' &&
      !block.sawInputDelta &&
      isRecord(block.startInput) &&
      Object.keys(block.startInput).length > 0
    ) {
      out.push(toolDelta({ index: block.toolIndex, function: { arguments: JSON.stringify(block.startInput) } }));
    }
  };

  const push = (event: SseEvent): ChatCompletionChunk[] => {
    if (state.finished || event.data.trim() === '') return [];
    const data = parseJson(event.data);
    if (!isRecord(data)) {
      throw new UpstreamStreamError({
        status: 502,
        code: 'upstream_error',
        message: 'Anthropic sent a stream event that is not JSON',
        retryable: true,
      });
    }
    const type = readString(data, 'type') ?? event.event;
    const out: ChatCompletionChunk[] = [];
    switch (type) {
      case 'message_start': {
        const message = readRecord(data, 'message') ?? {};
        state.model = readString(message, 'model') ?? state.model;
        state.usage = readTokenCounts(message.usage, state.usage);
        state.sawInput = isRecord(message.usage);
        ensureStarted(out);
        break;
      }
      case 'content_block_start':
        onBlockStart(data, out);
        break;
      case 'content_block_delta':
        onBlockDelta(data, out);
        break;
      case 'content_block_stop':
        onBlockStop(data, out);
        break;
      case 'message_delta': {
        const delta = readRecord(data, 'delta');
        const stopReason = delta ? readString(delta, 'stop_reason') : undefined;
        if (stopReason !== undefined) state.stopReason = stopReason;
        state.usage = readTokenCounts(data.usage, state.usage);
        if (isRecord(data.usage) && readNumber(data.usage, 'output_tokens') !== undefined) state.sawOutput = true;
        break;
      }
      case 'message_stop':
        ensureStarted(out);
        out.push(...finish());
        break;
      case 'error':
        state.finished = true;
        throw new UpstreamStreamError(errorInfoFor(readErrorBody(data), undefined, 'Anthropic stream failed'));
      default:
        // ping and future event types are skipped, as the Anthropic docs ask of clients.
        break;
    }
    return out;
  };

  return {
    push,
    /** Stream closed: emit the finish and usage chunks if message_stop never arrived (e.g. a cut connection). */
    end: () => finish(),
    reported: () => reportedOf(state.usage, state.sawInput, state.sawOutput),
  };
}
