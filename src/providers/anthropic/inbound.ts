/**
 * The gateway's Anthropic-compatible `/v1/messages` endpoint: Anthropic request → canonical chat request,
 * canonical completion → Anthropic message, and the error body. The stream encoder is in inbound-stream.ts.
 * Reference: PROTOCOLS.md §3.2–3.5 (Anthropic shapes), §6 (mapping), §6.3 (tricky cases).
 */
import { ApiError } from '../../core/errors.js';
import type {
  ChatCompletion,
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
} from '../types.js';
import { effortForBudget, toAnthropicMessageId, toAnthropicUsage, toStopReason } from './mapping.js';
import { isRecord, parseToolArguments, readArray, readString, type UnknownRecord } from './read-json.js';
import type {
  AnthropicMessage,
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicResponseBlock,
  AnthropicTool,
  AnthropicToolChoice,
} from './types.js';

export { toAnthropicError } from './inbound-errors.js';
export { type AnthropicStreamEncoder, createAnthropicStreamEncoder } from './inbound-stream.js';

function unsupported(what: string, param = 'messages'): ApiError {
  return new ApiError('bad_request', `${what} is not supported by this gateway`, { param });
}

/** Anthropic image/document source → OpenAI part. Only inline base64 and URLs have an OpenAI form. */
function imagePart(block: UnknownRecord): ChatContentPart {
  const source = isRecord(block.source) ? block.source : {};
  if (source.type === 'base64') {
    const url = `data:${readString(source, 'media_type') ?? 'application/octet-stream'};base64,${readString(source, 'data') ?? ''}`;
    return { type: 'image_url', image_url: { url } };
  }
  const url = source.type === 'url' ? readString(source, 'url') : undefined;
  if (url !== undefined) return { type: 'image_url', image_url: { url } };
  throw unsupported(`Image source type '${String(source.type)}'`);
}

function documentPart(block: UnknownRecord): ChatContentPart {
  const source = isRecord(block.source) ? block.source : {};
  if (source.type === 'text') return { type: 'text', text: readString(source, 'data') ?? '' };
  if (source.type === 'base64') {
    const fileData = `data:${readString(source, 'media_type') ?? 'application/pdf'};base64,${readString(source, 'data') ?? ''}`;
    const filename = readString(block, 'title');
    return { type: 'file', file: { file_data: fileData, ...(filename ? { filename } : {}) } };
  }
  throw unsupported(`Document source type '${String(source.type)}'`);
}

/** Text of a tool_result; images inside it cannot ride on an OpenAI tool message and are returned apart. */
function toolResultContent(block: UnknownRecord): { text: string; images: ChatContentPart[] } {
  if (typeof block.content === 'string') return { text: block.content, images: [] };
  const texts: string[] = [];
  const images: ChatContentPart[] = [];
  for (const item of readArray(block, 'content')) {
    if (!isRecord(item)) continue;
    if (item.type === 'text') texts.push(readString(item, 'text') ?? '');
    else if (item.type === 'image') images.push(imagePart(item));
    else if (item.type === 'document') images.push(documentPart(item));
  }
  return { text: texts.join('\n'), images };
}

/**
 * One Anthropic user turn → OpenAI messages: tool messages first (they answer the preceding assistant
 * tool calls), then one user message with the remaining parts, plus any images returned by tools.
 */
function fromUserTurn(content: AnthropicMessageParam['content']): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const toolMessages: ChatMessage[] = [];
  const parts: ChatContentPart[] = [];
  for (const block of content as unknown[]) {
    if (!isRecord(block)) continue;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: readString(block, 'text') ?? '' });
        break;
      case 'image':
        parts.push(imagePart(block));
        break;
      case 'document':
        parts.push(documentPart(block));
        break;
      case 'tool_result': {
        const result = toolResultContent(block);
        // OpenAI tool messages have no error flag, so the failure is stated in the text the model reads.
        const text = block.is_error === true ? `Error: ${result.text}` : result.text;
        toolMessages.push({ role: 'tool', tool_call_id: readString(block, 'tool_use_id') ?? '', content: text });
        parts.push(...result.images);
        break;
      }
      case 'thinking':
      case 'redacted_thinking':
        break;
      default:
        throw unsupported(`Content block type '${String(block.type)}'`);
    }
  }
  if (parts.length === 0) return toolMessages;
  const [only] = parts;
  const userContent = parts.length === 1 && only?.type === 'text' ? (only as { text: string }).text : parts;
  return [...toolMessages, { role: 'user', content: userContent }];
}

/** One Anthropic assistant turn → one OpenAI assistant message. Thinking blocks are dropped: they cannot be replayed elsewhere. */
function fromAssistantTurn(content: AnthropicMessageParam['content']): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  let text = '';
  const toolCalls: ChatToolCall[] = [];
  for (const block of content as unknown[]) {
    if (!isRecord(block)) continue;
    if (block.type === 'text') text += readString(block, 'text') ?? '';
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: readString(block, 'id') ?? '',
        type: 'function',
        function: { name: readString(block, 'name') ?? '', arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const message: ChatMessage = { role: 'assistant', content: toolCalls.length > 0 && text === '' ? null : text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

function fromTool(tool: AnthropicTool): ChatTool {
  // Server tools (web_search, bash, code_execution, …) carry a versioned type and no input_schema.
  if (!isRecord(tool.input_schema) || (tool.type !== undefined && tool.type !== 'custom')) {
    throw unsupported(`Server tool '${tool.name}'`, 'tools');
  }
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      parameters: tool.input_schema,
    },
  };
}

function fromToolChoice(choice: AnthropicToolChoice): ChatToolChoice {
  switch (choice.type) {
    case 'any':
      return 'required';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
    case 'none':
      return 'none';
    default:
      return 'auto';
  }
}

function systemText(system: AnthropicMessagesRequest['system']): string {
  if (typeof system === 'string') return system;
  return (system ?? []).map((block) => block.text).join('\n');
}

/**
 * Converts an Anthropic Messages request body into the canonical chat request. `top_k` and cache_control
 * have no OpenAI equivalent and are dropped; `thinking` becomes a `reasoning_effort` by budget.
 */
export function anthropicRequestToChat(body: AnthropicMessagesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(body.system);
  if (system !== '') messages.push({ role: 'system', content: system });
  for (const turn of body.messages) {
    if (turn.role === 'user') messages.push(...fromUserTurn(turn.content));
    else if (turn.role === 'assistant') messages.push(fromAssistantTurn(turn.content));
    else throw unsupported(`Message role '${String(turn.role)}'`);
  }

  const request: ChatRequest = { model: body.model, messages, max_tokens: body.max_tokens };
  if (body.tools && body.tools.length > 0) request.tools = body.tools.map(fromTool);
  if (body.tool_choice) {
    request.tool_choice = fromToolChoice(body.tool_choice);
    if ('disable_parallel_tool_use' in body.tool_choice && body.tool_choice.disable_parallel_tool_use === true) {
      request.parallel_tool_calls = false;
    }
  }
  if (body.stop_sequences && body.stop_sequences.length > 0) request.stop = body.stop_sequences;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  if (body.thinking?.type === 'enabled') request.reasoning_effort = effortForBudget(body.thinking.budget_tokens);
  else if (body.thinking?.type === 'adaptive') request.reasoning_effort = body.output_config?.effort ?? 'medium';
  const schema = body.output_config?.format?.schema;
  if (isRecord(schema)) request.response_format = { type: 'json_schema', json_schema: { name: 'response', schema } };
  if (typeof body.metadata?.user_id === 'string') request.user = body.metadata.user_id;
  if (body.stream === true) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  return request;
}

/** Converts a canonical completion into the Anthropic message the client asked for, under its requested model name. */
export function chatToAnthropicMessage(completion: ChatCompletion, requestedModel: string): AnthropicMessage {
  const choice = completion.choices[0];
  const content: AnthropicResponseBlock[] = [];
  const message = choice?.message;
  // The signature is empty: the reasoning did not come from Anthropic, so there is nothing to sign.
  if (message?.reasoning_content)
    content.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' });
  const text = message?.content || message?.refusal || '';
  if (text !== '') content.push({ type: 'text', text });
  for (const call of message?.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseToolArguments(call.function.arguments),
    });
  }
  return {
    id: toAnthropicMessageId(completion.id),
    type: 'message',
    role: 'assistant',
    model: requestedModel,
    content,
    stop_reason: toStopReason(choice?.finish_reason, (message?.tool_calls?.length ?? 0) > 0),
    stop_sequence: null,
    usage: toAnthropicUsage(completion.usage),
  };
}
