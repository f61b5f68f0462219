/**
 * OpenAI Chat Completions request → Anthropic Messages request.
 * Reference: PROTOCOLS.md §3.2 (request fields, ordering rules), §6 (mapping), §6.3 (tricky cases).
 */
import { UnsupportedRequestError } from '../shared/request-error.js';
import type {
  ChatMessage,
  ChatRequest,
  ChatTool,
  ChatToolChoice,
  UpstreamHttpRequest,
  UpstreamTarget,
} from '../types.js';
import { anthropicHeaders, messagesUrl } from './api.js';
import { contentToBlocks, contentToText } from './content.js';
import { MIN_THINKING_BUDGET, THINKING_BUDGETS } from './mapping.js';
import { isRecord, parseToolArguments, readNumber } from './read-json.js';
import type {
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicRequestBlock,
  AnthropicTextBlock,
  AnthropicThinkingConfig,
  AnthropicTool,
  AnthropicToolChoice,
} from './types.js';

/** Used when the client sets no output limit: Anthropic requires `max_tokens` (PROTOCOLS §6.3 item 1). */
export const DEFAULT_MAX_TOKENS = 4096;

interface Conversation {
  system: AnthropicTextBlock[];
  messages: AnthropicMessageParam[];
}

function blocksOf(turn: AnthropicMessageParam): AnthropicRequestBlock[] {
  return typeof turn.content === 'string' ? [{ type: 'text', text: turn.content }] : turn.content;
}

/**
 * Appends blocks as a turn, merging into the previous turn when the role repeats (Anthropic combines
 * consecutive same-role turns anyway, and all tool results must share one user turn). Within a user turn
 * tool_result blocks go first: Anthropic rejects text before them.
 */
function appendTurn(
  messages: AnthropicMessageParam[],
  role: 'user' | 'assistant',
  blocks: AnthropicRequestBlock[],
): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  const merged = last && last.role === role ? [...blocksOf(last), ...blocks] : blocks;
  const ordered =
    role === 'user'
      ? [
          ...merged.filter((block) => block.type === 'tool_result'),
          ...merged.filter((block) => block.type !== 'tool_result'),
        ]
      : merged;
  if (last && last.role === role) last.content = ordered;
  else messages.push({ role, content: ordered });
}

function assistantBlocks(message: ChatMessage): AnthropicRequestBlock[] {
  // reasoning_content is dropped: Anthropic only accepts thinking blocks with the signature it issued.
  const blocks: AnthropicRequestBlock[] = contentToBlocks(message.content);
  if (typeof message.refusal === 'string' && message.refusal !== '')
    blocks.push({ type: 'text', text: message.refusal });
  for (const call of message.tool_calls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseToolArguments(call.function.arguments),
    });
  }
  return blocks;
}

function toolResultBlock(message: ChatMessage): AnthropicRequestBlock {
  if (!message.tool_call_id)
    throw new UnsupportedRequestError('A tool message needs a tool_call_id', { param: 'messages' });
  const content = typeof message.content === 'string' ? message.content : contentToBlocks(message.content);
  return {
    type: 'tool_result',
    tool_use_id: message.tool_call_id,
    ...(content.length > 0 ? { content } : {}),
  };
}

/** Splits OpenAI messages into Anthropic's top-level system prompt and alternating user/assistant turns. */
export function toConversation(chatMessages: ChatMessage[]): Conversation {
  const conversation: Conversation = { system: [], messages: [] };
  for (const message of chatMessages) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        // Hoisted to the top-level system prompt; a mid-conversation position cannot be kept (§6.3 item 3).
        const text = contentToText(message.content);
        if (text !== '') conversation.system.push({ type: 'text', text });
        break;
      }
      case 'user':
        appendTurn(conversation.messages, 'user', contentToBlocks(message.content));
        break;
      case 'assistant':
        appendTurn(conversation.messages, 'assistant', assistantBlocks(message));
        break;
      case 'tool':
        appendTurn(conversation.messages, 'user', [toolResultBlock(message)]);
        break;
      default:
        throw new UnsupportedRequestError(`Message role '${String(message.role)}' is not supported`, {
          param: 'messages',
        });
    }
  }
  return conversation;
}

function toAnthropicTool(tool: ChatTool): AnthropicTool {
  if (tool.type !== 'function' || !tool.function) {
    throw new UnsupportedRequestError(`Tool type '${String(tool.type)}' is not supported by Anthropic models`, {
      param: 'tools',
    });
  }
  return {
    name: tool.function.name,
    ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
    // Anthropic requires an object schema; OpenAI lets `parameters` be omitted for a no-argument tool.
    input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
  };
}

function toAnthropicToolChoice(
  choice: ChatToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  const disableParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', ...disableParallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...disableParallel };
  if (choice === 'required') return { type: 'any', ...disableParallel };
  if (isRecord(choice) && choice.type === 'function' && typeof choice.function?.name === 'string') {
    return { type: 'tool', name: choice.function.name, ...disableParallel };
  }
  throw new UnsupportedRequestError('Unsupported tool_choice for Anthropic models', { param: 'tool_choice' });
}

/**
 * Thinking config from a raw `thinking` object (what Anthropic's own OpenAI layer accepts via extra_body)
 * or from `reasoning_effort`. The budget counts toward max_tokens and must stay below it, so an explicit
 * client limit caps the budget; below Anthropic's 1024 minimum thinking is left off.
 */
function thinkingFor(request: ChatRequest, explicitLimit: number | undefined): AnthropicThinkingConfig | undefined {
  let budget: number | undefined;
  if (isRecord(request.thinking)) {
    if (request.thinking.type === 'adaptive') return { type: 'adaptive' };
    if (request.thinking.type === 'enabled') budget = readNumber(request.thinking, 'budget_tokens');
  } else if (typeof request.reasoning_effort === 'string') {
    budget = THINKING_BUDGETS[request.reasoning_effort];
  }
  if (budget === undefined) return undefined;
  if (explicitLimit !== undefined) budget = Math.min(budget, explicitLimit - 1);
  return budget >= MIN_THINKING_BUDGET ? { type: 'enabled', budget_tokens: budget } : undefined;
}

/**
 * Whether thinking can be switched on for this conversation. Anthropic wants the signed thinking block of
 * an assistant turn back when that turn is continued (a prefill, or tool results answering its tool_use);
 * OpenAI clients do not keep those blocks, so in those two cases thinking is left off rather than causing
 * a 400 ("a final assistant message must start with a thinking block", reported in third-party logs).
 */
function canThink(messages: AnthropicMessageParam[]): boolean {
  const last = messages[messages.length - 1];
  if (!last) return true;
  if (last.role === 'assistant') return false;
  const answersToolUse = blocksOf(last).some((block) => block.type === 'tool_result');
  return !answersToolUse;
}

function stopSequences(stop: ChatRequest['stop']): string[] | undefined {
  if (stop == null) return undefined;
  // Anthropic's OpenAI layer documents that only non-whitespace stop sequences work.
  const sequences = (Array.isArray(stop) ? stop : [stop]).filter((sequence) => sequence.trim() !== '');
  return sequences.length > 0 ? sequences : undefined;
}

function outputFormat(request: ChatRequest): AnthropicMessagesRequest['output_config'] {
  const format = request.response_format;
  if (format?.type !== 'json_schema') return undefined; // json_object has no Anthropic equivalent (§6.3 item 8)
  const schema = format.json_schema?.schema;
  return isRecord(schema) ? { format: { type: 'json_schema', schema } } : undefined;
}

/** Builds the Anthropic request body for one canonical chat request. */
export function toAnthropicRequestBody(request: ChatRequest, upstreamModel: string): AnthropicMessagesRequest {
  if (request.n != null && request.n !== 1) {
    throw new UnsupportedRequestError('Anthropic models return one choice; n must be 1', { param: 'n' });
  }
  const conversation = toConversation(request.messages);
  const tools = (request.tools ?? []).map(toAnthropicTool);
  const toolChoice =
    tools.length > 0 ? toAnthropicToolChoice(request.tool_choice, request.parallel_tool_calls) : undefined;
  const explicitLimit = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  // Extended thinking cannot be combined with a forced tool call; the explicit tool contract wins (third-party docs).
  const forcedTool = toolChoice?.type === 'any' || toolChoice?.type === 'tool';
  const thinking = forcedTool || !canThink(conversation.messages) ? undefined : thinkingFor(request, explicitLimit);
  const thinkingBudget = thinking?.type === 'enabled' ? thinking.budget_tokens : 0;

  const body: AnthropicMessagesRequest = {
    model: upstreamModel,
    max_tokens: explicitLimit ?? DEFAULT_MAX_TOKENS + thinkingBudget,
    messages: conversation.messages,
  };
  const [firstSystem] = conversation.system;
  if (firstSystem) body.system = conversation.system.length === 1 ? firstSystem.text : conversation.system;
  if (tools.length > 0) body.tools = tools;
  if (toolChoice) body.tool_choice = toolChoice;
  const stop = stopSequences(request.stop);
  if (stop) body.stop_sequences = stop;
  if (thinking) {
    body.thinking = thinking;
    // With thinking on, Anthropic rejects a custom temperature and top_p below 0.95 (third-party docs).
    if (request.top_p != null && request.top_p >= 0.95) body.top_p = request.top_p;
  } else {
    // OpenAI allows temperature up to 2, Anthropic up to 1; its own OpenAI layer caps the same way.
    if (request.temperature != null) body.temperature = Math.min(Math.max(request.temperature, 0), 1);
    if (request.top_p != null) body.top_p = request.top_p;
  }
  const outputConfig = outputFormat(request);
  if (outputConfig) body.output_config = outputConfig;
  if (typeof request.user === 'string' && request.user !== '') body.metadata = { user_id: request.user };
  if (request.stream === true) body.stream = true;
  return body;
}

/** Builds the upstream HTTP request: `POST {baseUrl}/v1/messages`. */
export function buildChatRequest(request: ChatRequest, target: UpstreamTarget): UpstreamHttpRequest {
  return {
    method: 'POST',
    url: messagesUrl(target.baseUrl),
    headers: anthropicHeaders(target),
    body: JSON.stringify(toAnthropicRequestBody(request, target.upstreamModel)),
  };
}
