/**
 * Canonical chat request → Gemini `generateContent` / `streamGenerateContent` request.
 * Reference: PROTOCOLS.md §4.2 (layout: tools/toolConfig/systemInstruction top level, sampling inside
 * `generationConfig`), §4.7 (reasoning_effort budgets), §6 (field mapping).
 */
import { jsonPost } from '../shared/http-request.js';
import { isRecord } from '../shared/json.js';
import type { ChatRequest, ChatTool, ChatToolChoice, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { geminiAuthHeaders, geminiUrl } from './api.js';
import { toGeminiContents } from './contents.js';
import { toGeminiParameters, toGeminiSchema } from './schema.js';
import type {
  GeminiFunctionDeclaration,
  GeminiGenerationConfig,
  GeminiRequest,
  GeminiThinkingConfig,
  GeminiToolConfig,
} from './types.js';

/**
 * `reasoning_effort` → thinking budget in tokens. low/medium/high follow Google's OpenAI-compatibility
 * mapping (~1K/8K/24K); `none` disables thinking (budget 0); `minimal` uses 512 (the smallest budget
 * 2.5 Flash-Lite accepts); `xhigh`/`max` are capped at 24576, the 2.5 Flash maximum.
 */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24576,
  xhigh: 24576,
  max: 24576,
};

/** Thinking config for an effort; thoughts are requested so they can be returned as `reasoning_content`. */
export function thinkingConfigFor(effort: string | undefined): GeminiThinkingConfig | undefined {
  if (effort === undefined) return undefined;
  const budget = THINKING_BUDGETS[effort];
  if (budget === undefined) return { includeThoughts: true };
  return budget === 0 ? { thinkingBudget: 0 } : { thinkingBudget: budget, includeThoughts: true };
}

function toGenerationConfig(request: ChatRequest): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {};
  if (typeof request.temperature === 'number') config.temperature = request.temperature;
  if (typeof request.top_p === 'number') config.topP = request.top_p;
  if (typeof request.top_k === 'number') config.topK = request.top_k;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') config.maxOutputTokens = maxTokens;
  if (typeof request.stop === 'string') config.stopSequences = [request.stop];
  else if (Array.isArray(request.stop) && request.stop.length > 0) config.stopSequences = request.stop;
  if (typeof request.n === 'number') config.candidateCount = request.n;
  if (typeof request.seed === 'number') config.seed = request.seed;
  if (typeof request.presence_penalty === 'number') config.presencePenalty = request.presence_penalty;
  if (typeof request.frequency_penalty === 'number') config.frequencyPenalty = request.frequency_penalty;
  const format = request.response_format;
  if (format?.type === 'json_object' || format?.type === 'json_schema') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema' && isRecord(format.json_schema)) {
    const schema = toGeminiSchema(format.json_schema.schema);
    if (schema) config.responseSchema = schema;
  }
  const thinking = thinkingConfigFor(request.reasoning_effort);
  if (thinking) config.thinkingConfig = thinking;
  return Object.keys(config).length > 0 ? config : undefined;
}

function toFunctionDeclaration(tool: ChatTool): GeminiFunctionDeclaration {
  const declaration: GeminiFunctionDeclaration = { name: tool.function.name };
  if (tool.function.description) declaration.description = tool.function.description;
  const parameters = toGeminiParameters(tool.function.parameters);
  if (parameters) declaration.parameters = parameters;
  return declaration;
}

/** `tool_choice` → `functionCallingConfig`: auto→AUTO, none→NONE, required→ANY, a function→ANY + allowed name. */
export function toToolConfig(choice: ChatToolChoice | undefined): GeminiToolConfig | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  }
  return undefined;
}

/** The Gemini request body (model and stream flag go in the URL, not the body). */
export function toGeminiRequestBody(request: ChatRequest): GeminiRequest {
  const body: GeminiRequest = toGeminiContents(request.messages);
  const functionTools = (request.tools ?? []).filter((tool) => tool.type === 'function' && isRecord(tool.function));
  if (functionTools.length > 0) {
    body.tools = [{ functionDeclarations: functionTools.map(toFunctionDeclaration) }];
    const toolConfig = toToolConfig(request.tool_choice);
    if (toolConfig) body.toolConfig = toolConfig;
  }
  const generationConfig = toGenerationConfig(request);
  if (generationConfig) body.generationConfig = generationConfig;
  return body;
}

/**
 * POST `${baseUrl}/models/{model}:generateContent`, or `:streamGenerateContent?alt=sse` when
 * `request.stream`, with `x-goog-api-key`.
 */
export function buildGeminiChatRequest(request: ChatRequest, target: UpstreamTarget): UpstreamHttpRequest {
  const method = request.stream ? 'streamGenerateContent' : 'generateContent';
  return jsonPost(geminiUrl(target, method), target.headers, geminiAuthHeaders(target), toGeminiRequestBody(request));
}
