/**
 * Type checks of the /v1 request bodies, run before anything else (authentication included, as a schema
 * would): a known field of the wrong type is the client's mistake, answered 400 naming the field as the
 * provider itself would, instead of being forwarded (or crashing a translator, which used to be blamed on
 * the channel). Only types and the shapes translators rely on are checked; ranges and values are the
 * upstream's to judge, and unknown fields pass through untouched. Plain code rather than a JSON schema:
 * the app's Ajv coerces types (`"10"` → 10, `null` → 0), which is right for query strings and wrong here.
 */
import { ApiError } from '../core/errors.js';

type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';

/** What a field may hold: one kind or several; `null` is always accepted for optional fields. */
type Expected = Kind | readonly Kind[];

interface Problem {
  param: string;
  /** The kinds expected, or a free-form complaint (missing, empty, too small). */
  expected?: readonly Kind[];
  got?: unknown;
  missing?: boolean;
  empty?: boolean;
  minimum?: number;
}

function isKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

function asList(expected: Expected): readonly Kind[] {
  return typeof expected === 'string' ? [expected] : expected;
}

/** The first field of `fields` present in `body` with a value of none of its kinds (null passes). */
function checkFields(body: Record<string, unknown>, fields: Record<string, Expected>): Problem | null {
  for (const param in fields) {
    const value = body[param];
    if (value === undefined || value === null) continue;
    const expected = asList(fields[param] as Expected);
    if (!expected.some((kind) => isKind(value, kind))) return { param, expected, got: value };
  }
  return null;
}

function typeProblem(param: string, value: unknown, expected: Expected): Problem | null {
  const kinds = asList(expected);
  return kinds.some((kind) => isKind(value, kind)) ? null : { param, expected: kinds, got: value };
}

/** `value` is an array whose every item is of `kind` (items named `param[i]`). */
function arrayOf(param: string, value: unknown, kind: Kind): Problem | null {
  if (!Array.isArray(value)) return { param, expected: ['array'], got: value };
  for (let i = 0; i < value.length; i++) {
    const problem = typeProblem(`${param}[${i}]`, value[i], kind);
    if (problem) return problem;
  }
  return null;
}

function required(body: Record<string, unknown>, param: string, kind: Kind): Problem | null {
  const value = body[param];
  if (value === undefined || value === null) return { param, missing: true };
  return typeProblem(param, value, kind);
}

// ---- OpenAI ----------------------------------------------------------------------------------------

const OPENAI_CHAT_FIELDS: Record<string, Expected> = {
  stream: 'boolean',
  max_tokens: 'integer',
  max_completion_tokens: 'integer',
  n: 'integer',
  seed: 'integer',
  top_logprobs: 'integer',
  temperature: 'number',
  top_p: 'number',
  presence_penalty: 'number',
  frequency_penalty: 'number',
  logprobs: 'boolean',
  parallel_tool_calls: 'boolean',
  store: 'boolean',
  stop: ['string', 'array'],
  tools: 'array',
  tool_choice: ['string', 'object'],
  response_format: 'object',
  stream_options: 'object',
  logit_bias: 'object',
  metadata: 'object',
  user: 'string',
  reasoning_effort: 'string',
  service_tier: 'string',
};

const OPENAI_MESSAGE_FIELDS: Record<string, Expected> = {
  content: ['string', 'array'],
  name: 'string',
  tool_call_id: 'string',
  tool_calls: 'array',
};

function openAiMessage(message: unknown, at: string): Problem | null {
  if (!isKind(message, 'object')) return { param: at, expected: ['object'], got: message };
  const record = message as Record<string, unknown>;
  const problem = required(record, 'role', 'string') ?? checkFields(record, OPENAI_MESSAGE_FIELDS);
  if (problem) return { ...problem, param: `${at}.${problem.param}` };
  if (Array.isArray(record.content)) {
    for (let i = 0; i < record.content.length; i++) {
      const part: unknown = record.content[i];
      const where = `${at}.content[${i}]`;
      if (!isKind(part, 'object')) return { param: where, expected: ['object'], got: part };
      const type = required(part as Record<string, unknown>, 'type', 'string');
      if (type) return { ...type, param: `${where}.${type.param}` };
    }
  }
  const calls = record.tool_calls;
  if (Array.isArray(calls)) {
    for (let i = 0; i < calls.length; i++) {
      const where = `${at}.tool_calls[${i}]`;
      const call: unknown = calls[i];
      if (!isKind(call, 'object')) return { param: where, expected: ['object'], got: call };
      const fn = required(call as Record<string, unknown>, 'function', 'object');
      if (fn) return { ...fn, param: `${where}.function` };
      const f = (call as { function: Record<string, unknown> }).function;
      const inner = required(f, 'name', 'string') ?? required(f, 'arguments', 'string');
      if (inner) return { ...inner, param: `${where}.function.${inner.param}` };
    }
  }
  return null;
}

function openAiTools(tools: unknown): Problem | null {
  if (!Array.isArray(tools)) return null;
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i];
    if (!isKind(tool, 'object')) return { param: `tools[${i}]`, expected: ['object'], got: tool };
    const type = required(tool as Record<string, unknown>, 'type', 'string');
    if (type) return { ...type, param: `tools[${i}].type` };
    const fn = (tool as Record<string, unknown>).function;
    if ((tool as Record<string, unknown>).type === 'function') {
      if (!isKind(fn, 'object')) return { param: `tools[${i}].function`, expected: ['object'], got: fn };
      const name = required(fn as Record<string, unknown>, 'name', 'string');
      if (name) return { ...name, param: `tools[${i}].function.name` };
    }
  }
  return null;
}

function chatProblem(body: Record<string, unknown>): Problem | null {
  const model = required(body, 'model', 'string');
  if (model) return model;
  const messages = body.messages;
  if (messages === undefined || messages === null) return { param: 'messages', missing: true };
  if (!Array.isArray(messages)) return { param: 'messages', expected: ['array'], got: messages };
  if (messages.length === 0) return { param: 'messages', empty: true };
  for (let i = 0; i < messages.length; i++) {
    const problem = openAiMessage(messages[i], `messages[${i}]`);
    if (problem) return problem;
  }
  const field = checkFields(body, OPENAI_CHAT_FIELDS);
  if (field) return field;
  if (Array.isArray(body.stop)) {
    const stop = arrayOf('stop', body.stop, 'string');
    if (stop) return stop;
  }
  return openAiTools(body.tools);
}

const OPENAI_EMBEDDINGS_FIELDS: Record<string, Expected> = {
  dimensions: 'integer',
  encoding_format: 'string',
  user: 'string',
};

function embeddingsProblem(body: Record<string, unknown>): Problem | null {
  const model = required(body, 'model', 'string');
  if (model) return model;
  const input = body.input;
  if (input === undefined || input === null) return { param: 'input', missing: true };
  if (Array.isArray(input)) {
    if (input.length === 0) return { param: 'input', empty: true };
    // Strings, token ids, or arrays of token ids (one kind for the whole input, as OpenAI requires).
    const first: unknown = input[0];
    const kind: Kind = typeof first === 'string' ? 'string' : Array.isArray(first) ? 'array' : 'integer';
    for (let i = 0; i < input.length; i++) {
      const item: unknown = input[i];
      const problem =
        kind === 'array' ? arrayOf(`input[${i}]`, item, 'integer') : typeProblem(`input[${i}]`, item, kind);
      if (problem) return problem;
    }
  } else if (typeof input !== 'string') {
    return { param: 'input', expected: ['string', 'array'], got: input };
  }
  return checkFields(body, OPENAI_EMBEDDINGS_FIELDS);
}

/** OpenAI's words for a JSON value's type ("an integer", "a decimal"). */
function openAiTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function openAiKindName(kind: Kind): string {
  return kind === 'number'
    ? 'a decimal'
    : kind === 'integer' || kind === 'array' || kind === 'object'
      ? `an ${kind}`
      : `a ${kind}`;
}

function openAiError(problem: Problem): ApiError {
  const { param } = problem;
  let message: string;
  if (problem.missing) message = `Missing required parameter: '${param}'.`;
  else if (problem.empty)
    message = `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`;
  else
    message = `Invalid type for '${param}': expected ${(problem.expected ?? []).map(openAiKindName).join(' or ')}, but got ${openAiTypeName(problem.got)} instead.`;
  return new ApiError('validation_failed', message, { param });
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (isKind(body, 'object')) return body as Record<string, unknown>;
  throw new ApiError('validation_failed', 'The request body must be a JSON object.');
}

/** Throws a 400 (OpenAI's wording, `param` set) for a chat completion body with a mistyped known field. */
export function checkOpenAiChat(body: unknown): void {
  const problem = chatProblem(bodyObject(body));
  if (problem) throw openAiError(problem);
}

/** Throws a 400 (OpenAI's wording, `param` set) for an embeddings body with a mistyped known field. */
export function checkOpenAiEmbeddings(body: unknown): void {
  const problem = embeddingsProblem(bodyObject(body));
  if (problem) throw openAiError(problem);
}

// ---- Anthropic -------------------------------------------------------------------------------------

const ANTHROPIC_FIELDS: Record<string, Expected> = {
  stream: 'boolean',
  system: ['string', 'array'],
  temperature: 'number',
  top_p: 'number',
  top_k: 'integer',
  stop_sequences: 'array',
  tools: 'array',
  tool_choice: 'object',
  metadata: 'object',
  thinking: 'object',
  service_tier: 'string',
};

function messagesProblem(body: Record<string, unknown>): Problem | null {
  const problem = required(body, 'model', 'string') ?? required(body, 'max_tokens', 'integer');
  if (problem) return problem;
  if ((body.max_tokens as number) < 1) return { param: 'max_tokens', minimum: 1 };
  const messages = body.messages;
  if (messages === undefined || messages === null) return { param: 'messages', missing: true };
  if (!Array.isArray(messages)) return { param: 'messages', expected: ['array'], got: messages };
  if (messages.length === 0) return { param: 'messages', empty: true };
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    const at = `messages.${i}`;
    if (!isKind(message, 'object')) return { param: at, expected: ['object'], got: message };
    const record = message as Record<string, unknown>;
    const role = required(record, 'role', 'string');
    if (role) return { ...role, param: `${at}.role` };
    if (record.content === undefined || record.content === null) return { param: `${at}.content`, missing: true };
    const content = typeProblem(`${at}.content`, record.content, ['string', 'array']);
    if (content) return content;
    if (Array.isArray(record.content)) {
      const blocks = arrayOf(`${at}.content`, record.content, 'object');
      if (blocks) return { ...blocks, param: blocks.param.replace(/\[(\d+)\]$/, '.$1') };
    }
  }
  const field = checkFields(body, ANTHROPIC_FIELDS);
  if (field) return field;
  for (const param of ['stop_sequences', 'tools'] as const) {
    if (!Array.isArray(body[param])) continue;
    const items = arrayOf(param, body[param], param === 'tools' ? 'object' : 'string');
    if (items) return { ...items, param: items.param.replace(/\[(\d+)\]$/, '.$1') };
  }
  return null;
}

/** Anthropic's (pydantic's) words for a kind: "a valid integer". */
function anthropicKindName(kind: Kind): string {
  if (kind === 'object') return 'a valid dictionary';
  if (kind === 'array') return 'a valid list';
  return `a valid ${kind}`;
}

/** Throws a 400 in Anthropic's wording (`max_tokens: Input should be a valid integer`) for a mistyped known field. */
export function checkAnthropicMessages(body: unknown): void {
  const problem = messagesProblem(bodyObject(body));
  if (!problem) return;
  const { param } = problem;
  let detail: string;
  if (problem.missing) detail = 'Field required';
  else if (problem.empty) detail = 'List should have at least 1 item after validation, not 0';
  else if (problem.minimum !== undefined) detail = `Input should be greater than or equal to ${problem.minimum}`;
  else detail = `Input should be ${(problem.expected ?? []).map(anthropicKindName).join(' or ')}`;
  throw new ApiError('validation_failed', `${param}: ${detail}`, { param });
}
