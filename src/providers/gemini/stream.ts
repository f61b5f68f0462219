/**
 * Gemini SSE (`streamGenerateContent?alt=sse`) → canonical chunks. Each event is a complete
 * GenerateContentResponse holding only new parts; there is no `[DONE]`, the stream just ends.
 * Reference: PROTOCOLS.md §4.4, §6.2.
 *
 * Per candidate the translator emits: a role chunk first (`{role:'assistant', content:''}`), one chunk
 * per part (reasoning, text, or a whole tool call — Gemini does not stream partial arguments, so each
 * call is a single delta with full `arguments`), then a finish chunk when `finishReason` arrives.
 * At the end it emits one usage chunk (`choices: []`) from the last `usageMetadata` seen; the gateway
 * forwards it only when the client asked for `include_usage`.
 */
import { isRecord, parseJson, readArray, readNumber, readString, type UnknownRecord } from '../shared/json.js';
import { UpstreamStreamError } from '../shared/stream-error.js';
import type {
  ChatCompletionChunk,
  ChatRequest,
  ChatToolCallDelta,
  ChatUsage,
  ReportedUsage,
  SseEvent,
  StreamTranslator,
} from '../types.js';
import { geminiStreamErrorInfo } from './errors.js';
import {
  GEMINI_PROVIDER_NAME,
  geminiFinishReason,
  promptBlockReason,
  readCandidateParts,
  readUsageMetadata,
  syntheticToolCallId,
} from './response.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

interface CandidateState {
  finished: boolean;
  toolCalls: number;
}

/**
 * @example
 * const translator = createGeminiStreamTranslator(request, { id: 'chatcmpl-1', created: 1700000000 });
 * const chunks = events.flatMap((e) => translator.push(e)).concat(translator.end());
 */
export function createGeminiStreamTranslator(
  request: ChatRequest,
  ids: { id: string; created: number },
): StreamTranslator {
  const candidates = new Map<number, CandidateState>();
  let model = request.model;
  let responseId: string | undefined;
  let usage: ChatUsage | undefined;

  function chunk(
    index: number,
    delta: Delta,
    finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
  ): ChatCompletionChunk {
    return {
      id: ids.id,
      object: 'chat.completion.chunk',
      created: ids.created,
      model,
      choices: [{ index, delta, finish_reason: finish }],
    };
  }

  function stateFor(index: number, out: ChatCompletionChunk[]): CandidateState {
    let state = candidates.get(index);
    if (!state) {
      state = { finished: false, toolCalls: 0 };
      candidates.set(index, state);
      out.push(chunk(index, { role: 'assistant', content: '' }));
    }
    return state;
  }

  function translateCandidate(candidate: UnknownRecord, position: number, out: ChatCompletionChunk[]): void {
    const index = readNumber(candidate, 'index') ?? position;
    const state = stateFor(index, out);
    if (state.finished) return;
    const parts = readCandidateParts(candidate, (n) =>
      syntheticToolCallId(responseId ?? ids.id, index, state.toolCalls + n),
    );
    if (parts.reasoning !== '') out.push(chunk(index, { reasoning_content: parts.reasoning }));
    if (parts.content !== '') out.push(chunk(index, { content: parts.content }));
    for (const call of parts.toolCalls) {
      const delta: ChatToolCallDelta & { extra_content?: unknown } = {
        index: state.toolCalls++,
        id: call.id,
        type: 'function',
        function: { name: call.function.name, arguments: call.function.arguments },
      };
      const extra = (call as { extra_content?: unknown }).extra_content;
      if (extra !== undefined) delta.extra_content = extra;
      out.push(chunk(index, { tool_calls: [delta] }));
    }
    const finish = geminiFinishReason(readString(candidate, 'finishReason'), state.toolCalls > 0);
    if (finish !== null) {
      state.finished = true;
      out.push(chunk(index, {}, finish));
    }
  }

  return {
    push(event: SseEvent): ChatCompletionChunk[] {
      const data = event.data.trim();
      if (data === '' || data === '[DONE]') return [];
      const parsed = parseJson(data);
      if (!isRecord(parsed)) {
        throw new UpstreamStreamError({
          status: 502,
          code: 'upstream_error',
          message: `${GEMINI_PROVIDER_NAME} sent a stream event that is not JSON`,
          retryable: true,
        });
      }
      if (isRecord(parsed.error)) throw new UpstreamStreamError(geminiStreamErrorInfo(parsed.error));
      responseId = readString(parsed, 'responseId') || responseId;
      model = readString(parsed, 'modelVersion') || model;
      usage = readUsageMetadata(parsed.usageMetadata) ?? usage;
      const out: ChatCompletionChunk[] = [];
      const list = readArray(parsed, 'candidates').filter(isRecord);
      if (list.length === 0 && promptBlockReason(parsed) !== undefined) {
        const state = stateFor(0, out);
        if (!state.finished) {
          state.finished = true;
          out.push(chunk(0, {}, 'content_filter'));
        }
      }
      list.forEach((candidate, position) => {
        translateCandidate(candidate, position, out);
      });
      return out;
    },
    /** The prompt count Gemini repeats on every chunk; the output count is not final until the last one. */
    reported(): ReportedUsage {
      if (!usage) return {};
      const cached = usage.prompt_tokens_details?.cached_tokens;
      return cached === undefined ? { prompt: usage.prompt_tokens } : { prompt: usage.prompt_tokens, cached };
    },
    end(): ChatCompletionChunk[] {
      if (!usage) return [];
      return [{ id: ids.id, object: 'chat.completion.chunk', created: ids.created, model, choices: [], usage }];
    },
  };
}
