/**
 * Canonical chat chunks → the Responses API's stream events, in the order OpenAI emits them:
 * response.created, response.in_progress, then per output item output_item.added, its parts and deltas
 * (content_part.*, output_text.*, refusal.*, reasoning_summary_part.* / reasoning_summary_text.*,
 * function_call_arguments.*), output_item.done, and one terminal response.completed / response.incomplete
 * / response.failed. Every event has a `sequence_number`; there is no `[DONE]`.
 * Reference: OpenAI API reference, "Streaming events" (https://platform.openai.com/docs/api-reference/responses-streaming).
 */
import type { ChatCompletionChunk, ChatUsage, FinishReason, JsonObject, UpstreamErrorInfo } from '../../types.js';
import {
  functionCallItem,
  itemId,
  messageItem,
  type ResponseIds,
  reasoningItem,
  responseShell,
  statusOf,
  toResponsesUsage,
} from './from-chat.js';
import type { OutputItem, ResponseObject, ResponsesRequest } from './types.js';

type OpenPart = { kind: 'text' | 'refusal' | 'reasoning'; index: number; id: string; text: string };
type OpenCall = { index: number; id: string; callId: string; name: string; args: string };

/** One SSE event of the Responses stream. */
export function responsesEvent(type: string, sequence: number, fields: object): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...fields })}\n\n`;
}

export class ResponsesStreamEncoder {
  readonly #response: ResponseObject;
  #sequence = 0;
  #started = false;
  #finished = false;
  #part: OpenPart | undefined;
  /** Function calls by their chat tool-call index, open until the end (their deltas may interleave). */
  readonly #calls = new Map<number, OpenCall>();
  #finish: FinishReason | null = null;

  constructor(request: ResponsesRequest, ids: ResponseIds, model: string) {
    this.#response = responseShell(request, ids, model);
  }

  /** The response as it stands (final once `end` or `error` ran). */
  get response(): ResponseObject {
    return this.#response;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Events for one canonical chunk (the first also opens the stream). */
  push(chunk: ChatCompletionChunk): string {
    let out = this.start();
    for (const choice of chunk.choices) {
      if (choice.index !== 0) continue;
      const { delta } = choice;
      if (delta.reasoning_content) out += this.partDelta('reasoning', delta.reasoning_content);
      if (delta.content) out += this.partDelta('text', delta.content);
      if (delta.refusal) out += this.partDelta('refusal', delta.refusal);
      for (const call of delta.tool_calls ?? [])
        out += this.callDelta(call.index, call.id, call.function?.name, call.function?.arguments);
      if (choice.finish_reason) this.#finish = choice.finish_reason;
    }
    if (chunk.usage) this.#response.usage = toResponsesUsage(chunk.usage);
    return out;
  }

  /** Close what is open and send the terminal event (completed, or incomplete for a cut answer). */
  end(usage: ChatUsage | null): string {
    if (this.#finished) return '';
    let out = this.start() + this.closePart();
    for (const call of this.#calls.values()) out += this.closeCall(call);
    this.#calls.clear();
    if (usage) this.#response.usage = toResponsesUsage(usage);
    const { status, incomplete } = statusOf(this.#finish ?? 'stop');
    this.#response.status = status;
    this.#response.incomplete_details = incomplete;
    this.#finished = true;
    return (
      out +
      this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response: this.#response })
    );
  }

  /** The failure in the stream: response.failed with the error. */
  error(info: Pick<UpstreamErrorInfo, 'code' | 'message'>): string {
    if (this.#finished) return '';
    const out = this.start();
    this.#response.status = 'failed';
    this.#response.error = {
      code: info.code === 'rate_limit_exceeded' ? 'rate_limit_exceeded' : 'server_error',
      message: info.message,
    };
    this.#finished = true;
    return out + this.event('response.failed', { response: this.#response });
  }

  /**
   * The whole event sequence of a finished response (a stored one, replayed for `GET …?stream=true`):
   * each item's text in one delta.
   */
  static replay(stored: ResponseObject): string[] {
    const encoder = new ResponsesStreamEncoder(
      { model: stored.model },
      { id: stored.id, createdAt: stored.created_at },
      stored.model,
    );
    Object.assign(encoder.#response, stored, { status: 'in_progress', output: [], usage: null });
    let out = encoder.start();
    for (const item of stored.output) out += encoder.replayItem(item);
    encoder.#finished = true;
    const terminal =
      stored.status === 'failed'
        ? 'response.failed'
        : stored.status === 'incomplete'
          ? 'response.incomplete'
          : 'response.completed';
    out += encoder.event(terminal, { response: stored });
    // One string per event (the events never contain a blank line: their JSON is on one line).
    return out.split(/(?<=\n\n)/);
  }

  private replayItem(item: OutputItem): string {
    if (item.type === 'message' && Array.isArray(item.content)) {
      let out = '';
      for (const part of item.content) {
        if (part && typeof part === 'object' && !Array.isArray(part)) {
          if (part.type === 'output_text' && typeof part.text === 'string')
            out += this.partDelta('text', part.text, true);
          if (part.type === 'refusal' && typeof part.refusal === 'string')
            out += this.partDelta('refusal', part.refusal, true);
        }
      }
      return out + this.closePart();
    }
    if (item.type === 'reasoning') {
      const summary = Array.isArray(item.summary) ? item.summary : [];
      const text = summary
        .map((s) => (s && typeof s === 'object' && !Array.isArray(s) ? String(s.text ?? '') : ''))
        .join('');
      return this.partDelta('reasoning', text, true) + this.closePart();
    }
    if (item.type === 'function_call') {
      const out = this.callDelta(-1, String(item.call_id ?? ''), String(item.name ?? ''), String(item.arguments ?? ''));
      const call = this.#calls.get(-1);
      this.#calls.delete(-1);
      return out + (call ? this.closeCall(call) : '');
    }
    // Another item type (a hosted tool's call): as it is.
    const index = this.#response.output.length;
    this.#response.output.push(item);
    return (
      this.event('response.output_item.added', { output_index: index, item }) +
      this.event('response.output_item.done', { output_index: index, item })
    );
  }

  private event(type: string, fields: object): string {
    return responsesEvent(type, this.#sequence++, fields);
  }

  private start(): string {
    if (this.#started) return '';
    this.#started = true;
    const snapshot = { ...this.#response, output: [] };
    return (
      this.event('response.created', { response: snapshot }) +
      this.event('response.in_progress', { response: snapshot })
    );
  }

  private partDelta(kind: OpenPart['kind'], delta: string, whole = false): string {
    let out = '';
    // Text after refusal (or the reverse) stays one message; reasoning is its own item.
    if (this.#part && this.#part.kind !== kind) out += this.closePart();
    if (!this.#part) out += this.openPart(kind);
    const part = this.#part as unknown as OpenPart;
    part.text += delta;
    const base = { item_id: part.id, output_index: part.index };
    if (kind === 'reasoning')
      return out + this.event('response.reasoning_summary_text.delta', { ...base, summary_index: 0, delta });
    if (kind === 'refusal') return out + this.event('response.refusal.delta', { ...base, content_index: 0, delta });
    if (delta === '' && whole) return out;
    return out + this.event('response.output_text.delta', { ...base, content_index: 0, delta, logprobs: [] });
  }

  private openPart(kind: OpenPart['kind']): string {
    const index = this.#response.output.length;
    const prefix = kind === 'reasoning' ? 'rs' : 'msg';
    const id = itemId(prefix, this.#response.id, index);
    this.#part = { kind, index, id, text: '' };
    const item =
      kind === 'reasoning' ? reasoningItem(id, '') : { ...messageItem(id, '', '', 'in_progress'), content: [] };
    this.#response.output.push(item);
    const base = { item_id: id, output_index: index };
    let out = this.event('response.output_item.added', { output_index: index, item });
    if (kind === 'reasoning')
      out += this.event('response.reasoning_summary_part.added', {
        ...base,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      });
    else out += this.event('response.content_part.added', { ...base, content_index: 0, part: emptyPart(kind) });
    return out;
  }

  private closePart(): string {
    const part = this.#part;
    if (!part) return '';
    this.#part = undefined;
    const base = { item_id: part.id, output_index: part.index };
    let out: string;
    let item: OutputItem;
    if (part.kind === 'reasoning') {
      item = reasoningItem(part.id, part.text);
      const done = { type: 'summary_text', text: part.text };
      out =
        this.event('response.reasoning_summary_text.done', { ...base, summary_index: 0, text: part.text }) +
        this.event('response.reasoning_summary_part.done', { ...base, summary_index: 0, part: done });
    } else if (part.kind === 'refusal') {
      item = messageItem(part.id, '', part.text);
      out =
        this.event('response.refusal.done', { ...base, content_index: 0, refusal: part.text }) +
        this.event('response.content_part.done', {
          ...base,
          content_index: 0,
          part: { type: 'refusal', refusal: part.text },
        });
    } else {
      item = messageItem(part.id, part.text, '');
      const done: JsonObject = { type: 'output_text', annotations: [], logprobs: [], text: part.text };
      out =
        this.event('response.output_text.done', { ...base, content_index: 0, text: part.text, logprobs: [] }) +
        this.event('response.content_part.done', { ...base, content_index: 0, part: done });
    }
    this.#response.output[part.index] = item;
    return out + this.event('response.output_item.done', { output_index: part.index, item });
  }

  private callDelta(
    chatIndex: number,
    callId: string | undefined,
    name: string | undefined,
    args: string | undefined,
  ): string {
    let out = '';
    let call = this.#calls.get(chatIndex);
    if (!call) {
      out += this.closePart();
      const index = this.#response.output.length;
      call = { index, id: itemId('fc', this.#response.id, index), callId: callId ?? '', name: name ?? '', args: '' };
      this.#calls.set(chatIndex, call);
      const item = functionCallItem(call.id, call.callId, call.name, '', 'in_progress');
      this.#response.output.push(item);
      out += this.event('response.output_item.added', { output_index: index, item });
    } else if (name && !call.name) call.name = name;
    if (args) {
      call.args += args;
      out += this.event('response.function_call_arguments.delta', {
        item_id: call.id,
        output_index: call.index,
        delta: args,
      });
    }
    return out;
  }

  private closeCall(call: OpenCall): string {
    const item = functionCallItem(call.id, call.callId, call.name, call.args);
    this.#response.output[call.index] = item;
    return (
      this.event('response.function_call_arguments.done', {
        item_id: call.id,
        output_index: call.index,
        name: call.name,
        arguments: call.args,
      }) + this.event('response.output_item.done', { output_index: call.index, item })
    );
  }
}

function emptyPart(kind: 'text' | 'refusal'): JsonObject {
  return kind === 'refusal'
    ? { type: 'refusal', refusal: '' }
    : { type: 'output_text', annotations: [], logprobs: [], text: '' };
}
