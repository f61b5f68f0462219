/**
 * Responses API request → the canonical chat request, for channels that do not serve `/responses`
 * (Anthropic, Gemini, OpenAI-compatible hosts). Only what has a chat form translates: a hosted tool
 * (web_search, file_search, …), a file input or an item reference is refused with a 400 naming the field,
 * as only an OpenAI upstream can run them. Reference: OpenAI API reference, "Create a model response".
 */
import { ApiError } from '../../../core/errors.js';
import { isRecord, readString, type UnknownRecord } from '../../shared/json.js';
import type {
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
  JsonObject,
  JsonValue,
} from '../../types.js';
import type { ResponsesRequest } from './types.js';

/** Refusals of what only an OpenAI upstream runs (an OpenAI channel of the same model may still serve it). */
const openAiOnly = new WeakSet<ApiError>();

/** Whether `error` refuses something only an OpenAI channel can serve (not a mistake in the request). */
export function isOpenAiOnly(error: unknown): boolean {
  return error instanceof ApiError && openAiOnly.has(error);
}

function refuse(what: string, param: string): ApiError {
  const error = new ApiError(
    'bad_request',
    `${what} is served only by OpenAI channels (this model's channel is not one)`,
    { param },
  );
  openAiOnly.add(error);
  return error;
}

function invalid(message: string, param: string): ApiError {
  return new ApiError('bad_request', message, { param });
}

/** The input as items: a string is one user message. */
export function inputItems(input: ResponsesRequest['input']): JsonObject[] {
  if (input === undefined) return [];
  if (typeof input === 'string')
    return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  return input;
}

function contentPart(part: unknown, param: string): ChatContentPart {
  if (!isRecord(part)) throw invalid('A content part must be an object', param);
  switch (part.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return { type: 'text', text: readString(part, 'text') ?? '' };
    case 'refusal':
      return { type: 'text', text: readString(part, 'refusal') ?? '' };
    case 'input_image': {
      const url = readString(part, 'image_url');
      if (url === undefined) throw refuse('An input_image by file_id', `${param}.file_id`);
      const detail = readString(part, 'detail');
      return {
        type: 'image_url',
        image_url: detail === 'low' || detail === 'high' || detail === 'auto' ? { url, detail } : { url },
      };
    }
    case 'input_file':
      throw refuse('input_file', param);
    default:
      throw invalid(`Unknown content part type '${String(part.type)}'`, `${param}.type`);
  }
}

function messageContent(content: unknown, param: string): string | ChatContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid('Message content must be a string or an array of parts', param);
  const parts = content.map((part, i) => contentPart(part, `${param}[${i}]`));
  // Text-only content as a string: every upstream takes that form.
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) return JSON.stringify(output ?? '');
  return output
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .filter(Boolean)
    .join('');
}

const ROLES = new Set(['user', 'assistant', 'system', 'developer']);

/** Input (and stored output) items → chat messages. Consecutive function calls join one assistant turn. */
export function itemsToMessages(items: readonly unknown[], param = 'input'): ChatMessage[] {
  const messages: ChatMessage[] = [];
  /** The assistant message the next function_call joins (the one just before it). */
  let assistant: ChatMessage | undefined;
  let reasoning = '';
  items.forEach((raw, i) => {
    const at = `${param}[${i}]`;
    if (!isRecord(raw)) throw invalid('An input item must be an object', at);
    const item: UnknownRecord = raw;
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role = readString(item, 'role');
      if (!role || !ROLES.has(role)) throw invalid(`Unknown message role '${String(item.role)}'`, `${at}.role`);
      const message: ChatMessage = {
        role: role as ChatMessage['role'],
        content: messageContent(item.content, `${at}.content`),
      };
      if (role === 'assistant' && reasoning) message.reasoning_content = reasoning;
      reasoning = '';
      messages.push(message);
      assistant = role === 'assistant' ? message : undefined;
      return;
    }
    if (type === 'function_call') {
      const call: ChatToolCall = {
        id: readString(item, 'call_id') ?? '',
        type: 'function',
        function: { name: readString(item, 'name') ?? '', arguments: readString(item, 'arguments') ?? '{}' },
      };
      if (!call.id || !call.function.name) throw invalid('A function_call item needs call_id and name', at);
      if (!assistant) {
        assistant = { role: 'assistant', content: null };
        if (reasoning) assistant.reasoning_content = reasoning;
        reasoning = '';
        messages.push(assistant);
      }
      assistant.tool_calls = [...(assistant.tool_calls ?? []), call];
      return;
    }
    assistant = undefined;
    if (type === 'function_call_output') {
      const callId = readString(item, 'call_id');
      if (!callId) throw invalid('A function_call_output item needs call_id', `${at}.call_id`);
      messages.push({ role: 'tool', tool_call_id: callId, content: outputText(item.output) });
      return;
    }
    if (type === 'reasoning') {
      // Its summary rides on the next assistant turn (DeepSeek-style reasoning_content); encrypted content
      // has no meaning to another provider.
      const summary = Array.isArray(item.summary) ? outputText(item.summary) : '';
      reasoning += summary;
      return;
    }
    if (type === 'item_reference') throw refuse('item_reference', `${at}.type`);
    throw refuse(`The input item type '${String(type)}'`, `${at}.type`);
  });
  return messages;
}

function tool(raw: JsonObject, i: number): ChatTool {
  if (raw.type !== 'function') throw refuse(`The hosted tool '${String(raw.type)}'`, `tools[${i}].type`);
  const name = typeof raw.name === 'string' ? raw.name : '';
  if (!name) throw invalid('A function tool needs a name', `tools[${i}].name`);
  const fn: ChatTool['function'] = { name };
  if (typeof raw.description === 'string') fn.description = raw.description;
  if (isRecord(raw.parameters)) fn.parameters = raw.parameters as JsonObject;
  if (typeof raw.strict === 'boolean') fn.strict = raw.strict;
  return { type: 'function', function: fn };
}

function toolChoice(choice: unknown): ChatToolChoice | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
  if (isRecord(choice) && choice.type === 'function' && typeof choice.name === 'string')
    return { type: 'function', function: { name: choice.name } };
  throw refuse('This tool_choice', 'tool_choice');
}

function responseFormat(format: unknown): ChatRequest['response_format'] | undefined {
  if (!isRecord(format) || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const schema: JsonObject = { name: readString(format, 'name') ?? 'response' };
    if (isRecord(format.schema)) schema.schema = format.schema as JsonValue;
    if (typeof format.strict === 'boolean') schema.strict = format.strict;
    if (typeof format.description === 'string') schema.description = format.description;
    return { type: 'json_schema', json_schema: schema };
  }
  throw invalid(`Unknown text.format type '${String(format.type)}'`, 'text.format.type');
}

/**
 * The canonical chat request for a Responses request. `history` is the conversation rebuilt from stored
 * responses (for `previous_response_id`), placed before this request's input.
 */
export function responsesToChat(request: ResponsesRequest, history: readonly unknown[] = []): ChatRequest {
  const messages: ChatMessage[] = [];
  if (typeof request.instructions === 'string' && request.instructions !== '')
    messages.push({ role: 'system', content: request.instructions });
  messages.push(...itemsToMessages(history, 'previous_response_id'));
  messages.push(...itemsToMessages(inputItems(request.input)));
  if (messages.length === 0) throw invalid('input is required', 'input');
  const chat: ChatRequest = { model: request.model, messages };
  if (request.tools && request.tools.length > 0) chat.tools = request.tools.map(tool);
  const choice = toolChoice(request.tool_choice);
  if (choice !== undefined) chat.tool_choice = choice;
  if (typeof request.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = request.parallel_tool_calls;
  const effort = request.reasoning?.effort;
  if (typeof effort === 'string') chat.reasoning_effort = effort;
  const format = responseFormat(request.text?.format);
  if (format) chat.response_format = format;
  if (typeof request.max_output_tokens === 'number') chat.max_completion_tokens = request.max_output_tokens;
  if (typeof request.temperature === 'number') chat.temperature = request.temperature;
  if (typeof request.top_p === 'number') chat.top_p = request.top_p;
  if (typeof request.user === 'string') chat.user = request.user;
  if (request.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}
