/**
 * The Gemini API as an inbound protocol (the gateway's `/v1beta/models/{model}:generateContent`): a
 * generateContent body into the canonical chat request, and canonical answers and stream chunks back into
 * `GenerateContentResponse` — the reverse of ./chat.ts, ./contents.ts and ./response.ts.
 * Reference: https://ai.google.dev/api/generate-content (request, response, `alt=sse` stream: one
 * GenerateContentResponse per `data:` event, the last with `finishReason` and `usageMetadata`).
 */
import { ApiError } from '../../core/errors.js';
import { isRecord, readNumber, readString, type UnknownRecord } from '../shared/json.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatTool,
  ChatToolCall,
  ChatUsage,
  FinishReason,
  JsonObject,
  UpstreamErrorInfo,
} from '../types.js';

/** An object built for the client's JSON answer. */
type Obj = { [key: string]: unknown };

const bad = (message: string, param?: string) =>
  new ApiError('validation_failed', message, param === undefined ? {} : { param });

/** Gemini schemas spell types in capitals (`OBJECT`); JSON Schema in lower case. */
function toJsonSchema(schema: unknown): Obj | undefined {
  if (!isRecord(schema)) return undefined;
  const out: Obj = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && typeof value === 'string') out.type = value.toLowerCase();
    else if (key === 'properties' && isRecord(value)) {
      const props: Obj = {};
      for (const [name, sub] of Object.entries(value)) props[name] = toJsonSchema(sub) ?? {};
      out.properties = props;
    } else if (key === 'items') out.items = toJsonSchema(value) ?? {};
    else if (key === 'anyOf' && Array.isArray(value)) out.anyOf = value.map((v) => toJsonSchema(v) ?? {});
    else out[key] = value;
  }
  return out;
}

function partsOf(content: unknown, where: string): UnknownRecord[] {
  if (!isRecord(content) || !Array.isArray(content.parts))
    throw bad(`${where}.parts must be an array`, `${where}.parts`);
  return content.parts.filter(isRecord);
}

/** The ids function calls got, so their responses name the same call (Gemini matches by name and order). */
class CallIds {
  readonly #open: Array<{ id: string; name: string }> = [];
  #count = 0;

  call(name: string, id: string | undefined): string {
    const callId = id ?? `call_${++this.#count}_${name}`;
    this.#open.push({ id: callId, name });
    return callId;
  }

  response(name: string, id: string | undefined): string {
    const at = this.#open.findIndex((c) => (id !== undefined ? c.id === id : c.name === name));
    if (at < 0) return id ?? `call_${++this.#count}_${name}`;
    const [found] = this.#open.splice(at, 1);
    return found?.id ?? name;
  }
}

function userMessages(parts: UnknownRecord[], ids: CallIds): ChatMessage[] {
  const out: ChatMessage[] = [];
  const content: ChatContentPart[] = [];
  for (const part of parts) {
    const text = readString(part, 'text');
    if (text !== undefined) content.push({ type: 'text', text });
    const inline = part.inlineData;
    if (isRecord(inline) && typeof inline.data === 'string')
      content.push({
        type: 'image_url',
        image_url: { url: `data:${readString(inline, 'mimeType') ?? 'image/png'};base64,${inline.data}` },
      });
    const file = part.fileData;
    if (isRecord(file) && typeof file.fileUri === 'string')
      content.push({ type: 'image_url', image_url: { url: file.fileUri } });
    const response = part.functionResponse;
    if (isRecord(response)) {
      const name = readString(response, 'name') ?? '';
      out.push({
        role: 'tool',
        tool_call_id: ids.response(name, readString(response, 'id')),
        content: JSON.stringify(response.response ?? {}),
      });
    }
  }
  if (content.length > 0) {
    const only = content.length === 1 && content[0]?.type === 'text' ? (content[0] as { text: string }).text : null;
    out.push({ role: 'user', content: only ?? content });
  }
  return out;
}

function modelMessage(parts: UnknownRecord[], ids: CallIds): ChatMessage {
  let text = '';
  const calls: ChatToolCall[] = [];
  for (const part of parts) {
    if (part.thought === true) continue;
    const t = readString(part, 'text');
    if (t !== undefined) text += t;
    const call = part.functionCall;
    if (isRecord(call)) {
      const name = readString(call, 'name') ?? '';
      calls.push({
        id: ids.call(name, readString(call, 'id')),
        type: 'function',
        function: { name, arguments: JSON.stringify(call.args ?? {}) },
      });
    }
  }
  const message: ChatMessage = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function toolsOf(tools: unknown): ChatTool[] {
  const out: ChatTool[] = [];
  if (!Array.isArray(tools)) return out;
  for (const tool of tools) {
    if (!isRecord(tool) || !Array.isArray(tool.functionDeclarations)) continue;
    for (const decl of tool.functionDeclarations) {
      if (!isRecord(decl) || typeof decl.name !== 'string') continue;
      const fn: ChatTool['function'] = { name: decl.name };
      if (typeof decl.description === 'string') fn.description = decl.description;
      const parameters = isRecord(decl.parametersJsonSchema)
        ? (decl.parametersJsonSchema as Obj)
        : toJsonSchema(decl.parameters);
      if (parameters) fn.parameters = parameters as JsonObject;
      out.push({ type: 'function', function: fn });
    }
  }
  return out;
}

function applyGenerationConfig(chat: ChatRequest, config: UnknownRecord): void {
  const number = (key: string) => readNumber(config, key);
  if (number('temperature') !== undefined) chat.temperature = number('temperature');
  if (number('topP') !== undefined) chat.top_p = number('topP');
  if (number('maxOutputTokens') !== undefined) chat.max_tokens = number('maxOutputTokens');
  if (number('candidateCount') !== undefined) chat.n = number('candidateCount');
  if (number('seed') !== undefined) chat.seed = number('seed');
  if (number('presencePenalty') !== undefined) chat.presence_penalty = number('presencePenalty');
  if (number('frequencyPenalty') !== undefined) chat.frequency_penalty = number('frequencyPenalty');
  if (Array.isArray(config.stopSequences)) chat.stop = config.stopSequences.filter((s) => typeof s === 'string');
  const schema = isRecord(config.responseJsonSchema)
    ? (config.responseJsonSchema as Obj)
    : toJsonSchema(config.responseSchema);
  if (schema) chat.response_format = { type: 'json_schema', json_schema: { name: 'response', schema } as JsonObject };
  else if (config.responseMimeType === 'application/json') chat.response_format = { type: 'json_object' };
  const thinking = config.thinkingConfig;
  const budget = isRecord(thinking) ? readNumber(thinking, 'thinkingBudget') : undefined;
  if (budget !== undefined && budget !== 0 && budget !== -1)
    chat.reasoning_effort = budget <= 1024 ? 'low' : budget <= 8192 ? 'medium' : 'high';
}

/**
 * A generateContent body (`contents`, `systemInstruction`, `tools`, `toolConfig`, `generationConfig`) as
 * the canonical chat request for `model`. Throws the client's 400 for a body without contents.
 */
export function geminiRequestToChat(body: unknown, model: string): ChatRequest {
  if (!isRecord(body)) throw bad('The request body must be a JSON object.');
  if (!Array.isArray(body.contents) || body.contents.length === 0) throw bad('contents is not specified', 'contents');
  const messages: ChatMessage[] = [];
  const system = body.systemInstruction ?? body.system_instruction;
  if (system !== undefined) {
    const text = partsOf(system, 'systemInstruction')
      .map((p) => readString(p, 'text') ?? '')
      .join('');
    if (text !== '') messages.push({ role: 'system', content: text });
  }
  const ids = new CallIds();
  body.contents.forEach((content, i) => {
    const parts = partsOf(content, `contents[${i}]`);
    const role = isRecord(content) ? content.role : undefined;
    if (role === 'model') messages.push(modelMessage(parts, ids));
    else messages.push(...userMessages(parts, ids));
  });
  const chat: ChatRequest = { model, messages };
  const tools = toolsOf(body.tools);
  if (tools.length > 0) chat.tools = tools;
  const calling = isRecord(body.toolConfig) ? body.toolConfig.functionCallingConfig : undefined;
  if (isRecord(calling)) {
    const allowed = Array.isArray(calling.allowedFunctionNames) ? calling.allowedFunctionNames : [];
    if (calling.mode === 'NONE') chat.tool_choice = 'none';
    else if (calling.mode === 'ANY')
      chat.tool_choice =
        allowed.length === 1 && typeof allowed[0] === 'string'
          ? { type: 'function', function: { name: allowed[0] } }
          : 'required';
  }
  if (isRecord(body.generationConfig)) applyGenerationConfig(chat, body.generationConfig);
  return chat;
}

/** Canonical finish reasons as Gemini reports them. */
function finishReasonOf(reason: FinishReason | null): string | undefined {
  if (reason === null) return undefined;
  if (reason === 'length') return 'MAX_TOKENS';
  if (reason === 'content_filter') return 'SAFETY';
  return 'STOP';
}

/** OpenAI usage as Gemini's `usageMetadata` (candidates exclude thoughts, as Gemini counts them). */
export function usageMetadataOf(usage: ChatUsage): Obj {
  const thoughts = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  const out: Obj = {
    promptTokenCount: usage.prompt_tokens,
    candidatesTokenCount: Math.max(0, usage.completion_tokens - thoughts),
    totalTokenCount: usage.total_tokens,
  };
  if (thoughts > 0) out.thoughtsTokenCount = thoughts;
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (cached) out.cachedContentTokenCount = cached;
  return out;
}

function callPart(call: { name: string; arguments: string; id?: string | undefined }): Obj {
  let args: Obj = {};
  try {
    const parsed = JSON.parse(call.arguments || '{}') as unknown;
    if (isRecord(parsed)) args = parsed as Obj;
  } catch {
    args = {};
  }
  return { functionCall: { name: call.name, args, ...(call.id ? { id: call.id } : {}) } };
}

/** A canonical completion as a GenerateContentResponse under the requested model name. */
export function chatToGeminiResponse(completion: ChatCompletion, model: string): Obj {
  const candidates = completion.choices.map((choice) => {
    const parts: Obj[] = [];
    if (choice.message.reasoning_content) parts.push({ text: choice.message.reasoning_content, thought: true });
    if (choice.message.content) parts.push({ text: choice.message.content });
    for (const call of choice.message.tool_calls ?? [])
      parts.push(callPart({ name: call.function.name, arguments: call.function.arguments, id: call.id }));
    const candidate: Obj = { content: { role: 'model', parts }, index: choice.index };
    const finish = finishReasonOf(choice.finish_reason);
    if (finish) candidate.finishReason = finish;
    return candidate;
  });
  const out: Obj = { candidates, modelVersion: model, responseId: completion.id };
  if (completion.usage) out.usageMetadata = usageMetadataOf(completion.usage);
  return out;
}

/** Google's error status names by HTTP status. */
export function googleStatus(status: number): string {
  if (status === 400) return 'INVALID_ARGUMENT';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 413) return 'INVALID_ARGUMENT';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 503) return 'UNAVAILABLE';
  if (status === 504) return 'DEADLINE_EXCEEDED';
  return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
}

/**
 * The writer of a Gemini `alt=sse` stream from canonical chunks: text (and thought) parts as they come;
 * function calls are whole in Gemini's stream, so their fragments are gathered and sent with the last
 * event, which also carries `finishReason` and `usageMetadata`.
 */
export function createGeminiStreamEncoder(model: string, responseId: string) {
  const calls = new Map<number, { name: string; arguments: string; id?: string | undefined }>();
  let finish: FinishReason | null = null;
  const event = (body: Obj) => `data: ${JSON.stringify(body)}\n\n`;
  const candidate = (parts: Obj[], finishReason?: string): Obj => ({
    content: { role: 'model', parts },
    index: 0,
    ...(finishReason ? { finishReason } : {}),
  });
  return {
    push(chunk: ChatCompletionChunk): string {
      let out = '';
      for (const choice of chunk.choices) {
        if (choice.index !== 0) continue;
        const d = choice.delta;
        const parts: Obj[] = [];
        if (d.reasoning_content) parts.push({ text: d.reasoning_content, thought: true });
        if (d.content) parts.push({ text: d.content });
        for (const call of d.tool_calls ?? []) {
          const open = calls.get(call.index) ?? { name: '', arguments: '' };
          if (call.id) open.id = call.id;
          open.name += call.function?.name ?? '';
          open.arguments += call.function?.arguments ?? '';
          calls.set(call.index, open);
        }
        if (choice.finish_reason) finish = choice.finish_reason;
        if (parts.length > 0) out += event({ candidates: [candidate(parts)], modelVersion: model, responseId });
      }
      return out;
    },
    end(usage: ChatUsage | null): string {
      const parts = [...calls.values()].map(callPart);
      const last: Obj = {
        candidates: [candidate(parts, finishReasonOf(finish ?? 'stop'))],
        modelVersion: model,
        responseId,
      };
      if (usage) last.usageMetadata = usageMetadataOf(usage);
      return event(last);
    },
    error(info: UpstreamErrorInfo): string {
      return event({ error: { code: info.status, message: info.message, status: googleStatus(info.status) } });
    },
  };
}
