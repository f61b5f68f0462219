/**
 * OpenAI-format SSE → canonical chunks. The upstream already speaks the canonical format, so the
 * translator validates and normalises rather than translates: reasoning under `reasoning_content`,
 * usage normalised, `choices: null` (vLLM) read as `[]`, chunks that carry neither choices nor usage
 * (Azure's prompt-filter annotation) dropped, and mid-stream errors thrown as UpstreamStreamError.
 * Reference: PROTOCOLS.md §1.4, §2.3, §5.
 */
import { isRecord, parseJson, readArray, readNumber, readString, type UnknownRecord } from '../shared/json.js';
import { normaliseReasoning } from '../shared/reasoning.js';
import { UpstreamStreamError } from '../shared/stream-error.js';
import { normaliseUsage } from '../shared/usage.js';
import type { ChatCompletionChunk, ChatRequest, SseEvent, StreamTranslator } from '../types.js';
import { readFinishReason } from './chat.js';
import { openAiStreamErrorInfo } from './errors.js';

type ChunkChoice = ChatCompletionChunk['choices'][number];

export interface OpenAiStreamOptions {
  /** Human name of the upstream for error messages. */
  provider?: string;
}

/**
 * A choice from an upstream chunk, or undefined when it carries nothing for the client: Azure's
 * asynchronous-filter annotations have no `delta`, and are kept only when they end the choice.
 */
function normaliseChoice(raw: unknown, position: number): ChunkChoice | undefined {
  if (!isRecord(raw)) return undefined;
  const finish = readFinishReason(raw.finish_reason);
  if (!isRecord(raw.delta) && finish === null) return undefined;
  const delta = isRecord(raw.delta) ? normaliseReasoning(raw.delta) : {};
  return {
    ...raw,
    index: readNumber(raw, 'index') ?? position,
    delta: delta as ChunkChoice['delta'],
    finish_reason: finish,
  };
}

/**
 * Creates the translator for one OpenAI-format stream. Upstream `id`, `created` and `model` are kept;
 * where a chunk lacks them (Azure annotations send `""` and `0`) the last seen value, else `ids` and
 * the request's model, fill in. Usage chunks are passed on whether or not the client asked for them;
 * the gateway decides what to forward.
 */
export function createOpenAiStreamTranslator(
  request: ChatRequest,
  ids: { id: string; created: number },
  options: OpenAiStreamOptions = {},
): StreamTranslator {
  const provider = options.provider ?? 'OpenAI';
  let id = ids.id;
  let created = ids.created;
  let model = request.model;
  let done = false;

  function translate(chunk: UnknownRecord): ChatCompletionChunk[] {
    const choices = readArray(chunk, 'choices')
      .map((choice, i) => normaliseChoice(choice, i))
      .filter((choice): choice is ChunkChoice => choice !== undefined);
    const usage = normaliseUsage(chunk.usage);
    if (choices.length === 0 && usage === undefined) return [];
    id = readString(chunk, 'id') || id;
    created = readNumber(chunk, 'created') || created;
    model = readString(chunk, 'model') || model;
    const out: UnknownRecord = { ...chunk, id, object: 'chat.completion.chunk', created, model, choices };
    if (usage) out.usage = usage;
    else delete out.usage;
    return [out as ChatCompletionChunk];
  }

  return {
    push(event: SseEvent): ChatCompletionChunk[] {
      const data = event.data.trim();
      if (done || data === '') return [];
      if (data === '[DONE]') {
        done = true;
        return [];
      }
      const parsed = parseJson(data);
      if (event.event === 'error') {
        throw new UpstreamStreamError(
          openAiStreamErrorInfo(isRecord(parsed) ? (parsed.error ?? parsed) : data, provider),
        );
      }
      if (!isRecord(parsed)) {
        throw new UpstreamStreamError({
          status: 502,
          code: 'upstream_error',
          message: `${provider} sent a stream event that is not JSON`,
          retryable: true,
        });
      }
      if (parsed.error !== undefined && parsed.error !== null) {
        throw new UpstreamStreamError(openAiStreamErrorInfo(parsed.error, provider));
      }
      return translate(parsed);
    },
    end(): ChatCompletionChunk[] {
      return [];
    },
  };
}
