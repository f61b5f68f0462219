/**
 * Type checks of the /v1 request bodies, run before anything else (authentication included, as a schema
 * would): a known field of the wrong type is the client's mistake, answered 400 naming the field as the
 * provider itself would, instead of being forwarded (or crashing a translator, which used to be blamed on
 * the channel). Only types and the shapes translators rely on are checked; ranges and values are the
 * upstream's to judge, unknown fields pass through untouched, and `null` is accepted for optional fields.
 * Plain code rather than a JSON schema: the app's Ajv coerces types (`"10"` → 10, `null` → 0), which is
 * right for query strings and wrong here. Hot path: kinds are bit masks, the body's own keys are walked
 * (not the list of known fields), and nothing is allocated unless a problem is found.
 */
import { ApiError } from '../core/errors.js';

const STRING = 1;
const INTEGER = 2;
/** A finite number that is not an integer; `NUMBER` below accepts both. */
const DECIMAL = 4;
const BOOLEAN = 8;
const ARRAY = 16;
const OBJECT = 32;
const NULL = 64;
const OTHER = 128;
const NUMBER = INTEGER | DECIMAL;

function kindOf(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return STRING;
    case 'number':
      return Number.isInteger(value) ? INTEGER : Number.isFinite(value) ? DECIMAL : OTHER;
    case 'boolean':
      return BOOLEAN;
    case 'object':
      return value === null ? NULL : Array.isArray(value) ? ARRAY : OBJECT;
    default:
      return OTHER;
  }
}

interface Problem {
  param: string;
  /** Kinds expected (a mask), with the value found. */
  expected?: number;
  got?: unknown;
  missing?: true;
  empty?: true;
  minimum?: number;
}

/** Known fields and the kinds each accepts (null is accepted for all of them: it means "not set"). */
type Fields = Readonly<Record<string, number>>;

/** `problem` with its param under `prefix` (names are built only for a problem, never on the happy path). */
function under(prefix: string, problem: Problem | null): Problem | null {
  if (problem) problem.param = prefix + problem.param;
  return problem;
}

function checkFields(body: Record<string, unknown>, fields: Fields): Problem | null {
  for (const key in body) {
    const expected = fields[key];
    if (expected === undefined) continue;
    const value = body[key];
    if ((kindOf(value) & (expected | NULL)) === 0) return { param: key, expected, got: value };
  }
  return null;
}

function required(body: Record<string, unknown>, key: string, expected: number): Problem | null {
  const value = body[key];
  const kind = kindOf(value);
  if (value === undefined || kind === NULL) return { param: key, missing: true };
  return (kind & expected) === 0 ? { param: key, expected, got: value } : null;
}

/** Every item of `items` has a kind of `expected`; items are named `param[i]` (or `param.i` for Anthropic). */
function eachOf(items: unknown[], expected: number, param: string, dotted = false): Problem | null {
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if ((kindOf(item) & expected) === 0)
      return { param: dotted ? `${param}.${i}` : `${param}[${i}]`, expected, got: item };
  }
  return null;
}

// ---- OpenAI ----------------------------------------------------------------------------------------

const OPENAI_CHAT_FIELDS: Fields = {
  stream: BOOLEAN,
  max_tokens: INTEGER,
  max_completion_tokens: INTEGER,
  n: INTEGER,
  seed: INTEGER,
  top_logprobs: INTEGER,
  temperature: NUMBER,
  top_p: NUMBER,
  presence_penalty: NUMBER,
  frequency_penalty: NUMBER,
  logprobs: BOOLEAN,
  parallel_tool_calls: BOOLEAN,
  store: BOOLEAN,
  stop: STRING | ARRAY,
  tools: ARRAY,
  tool_choice: STRING | OBJECT,
  response_format: OBJECT,
  stream_options: OBJECT,
  logit_bias: OBJECT,
  metadata: OBJECT,
  user: STRING,
  reasoning_effort: STRING,
  service_tier: STRING,
};

const OPENAI_MESSAGE_FIELDS: Fields = {
  content: STRING | ARRAY,
  name: STRING,
  tool_call_id: STRING,
  tool_calls: ARRAY,
};

/** Problems of one message, named relative to it (`role`, `content[0].type`). */
function openAiMessage(message: unknown): Problem | null {
  if (kindOf(message) !== OBJECT) return { param: '', expected: OBJECT, got: message };
  const record = message as Record<string, unknown>;
  const problem = required(record, 'role', STRING) ?? checkFields(record, OPENAI_MESSAGE_FIELDS);
  if (problem) return problem;
  const content = record.content;
  if (Array.isArray(content)) {
    for (let i = 0; i < content.length; i++) {
      const part: unknown = content[i];
      if (kindOf(part) !== OBJECT) return { param: `content[${i}]`, expected: OBJECT, got: part };
      const type = required(part as Record<string, unknown>, 'type', STRING);
      if (type) return under(`content[${i}].`, type);
    }
  }
  const calls = record.tool_calls;
  if (Array.isArray(calls)) {
    for (let i = 0; i < calls.length; i++) {
      const call: unknown = calls[i];
      if (kindOf(call) !== OBJECT) return { param: `tool_calls[${i}]`, expected: OBJECT, got: call };
      const fn = required(call as Record<string, unknown>, 'function', OBJECT);
      if (fn) return under(`tool_calls[${i}].`, fn);
      const f = (call as { function: Record<string, unknown> }).function;
      const inner = required(f, 'name', STRING) ?? required(f, 'arguments', STRING);
      if (inner) return under(`tool_calls[${i}].function.`, inner);
    }
  }
  return null;
}

function openAiTools(tools: unknown[]): Problem | null {
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i];
    if (kindOf(tool) !== OBJECT) return { param: `tools[${i}]`, expected: OBJECT, got: tool };
    const record = tool as Record<string, unknown>;
    const type = required(record, 'type', STRING);
    if (type) return under(`tools[${i}].`, type);
    if (record.type !== 'function') continue;
    const fn = required(record, 'function', OBJECT);
    if (fn) return under(`tools[${i}].`, fn);
    const name = required(record.function as Record<string, unknown>, 'name', STRING);
    if (name) return under(`tools[${i}].function.`, name);
  }
  return null;
}

function chatProblem(body: Record<string, unknown>): Problem | null {
  const problem = required(body, 'model', STRING) ?? required(body, 'messages', ARRAY);
  if (problem) return problem;
  const messages = body.messages as unknown[];
  if (messages.length === 0) return { param: 'messages', empty: true };
  for (let i = 0; i < messages.length; i++) {
    const message = openAiMessage(messages[i]);
    if (message) return under(message.param === '' ? `messages[${i}]` : `messages[${i}].`, message);
  }
  const field = checkFields(body, OPENAI_CHAT_FIELDS);
  if (field) return field;
  if (Array.isArray(body.stop)) {
    const stop = eachOf(body.stop, STRING, 'stop');
    if (stop) return stop;
  }
  return Array.isArray(body.tools) ? openAiTools(body.tools) : null;
}

const OPENAI_EMBEDDINGS_FIELDS: Fields = { dimensions: INTEGER, encoding_format: STRING, user: STRING };

function embeddingsProblem(body: Record<string, unknown>): Problem | null {
  const problem = required(body, 'model', STRING) ?? required(body, 'input', STRING | ARRAY);
  if (problem) return problem;
  const input = body.input;
  if (Array.isArray(input)) {
    if (input.length === 0) return { param: 'input', empty: true };
    // Strings, token ids, or arrays of token ids: one kind for the whole input, as OpenAI requires.
    const first = kindOf(input[0]);
    const kind = first === STRING || first === ARRAY ? first : INTEGER;
    const items = eachOf(input, kind, 'input');
    if (items) return items;
    if (kind === ARRAY) {
      for (let i = 0; i < input.length; i++) {
        const tokens = eachOf(input[i] as unknown[], INTEGER, `input[${i}]`);
        if (tokens) return tokens;
      }
    }
  }
  return checkFields(body, OPENAI_EMBEDDINGS_FIELDS);
}

const OPENAI_NAMES: ReadonlyArray<[number, string]> = [
  [STRING, 'a string'],
  [INTEGER, 'an integer'],
  [DECIMAL, 'a decimal'],
  [BOOLEAN, 'a boolean'],
  [ARRAY, 'an array'],
  [OBJECT, 'an object'],
  [NULL, 'null'],
];

/** OpenAI's words for kinds: "an integer", "a decimal" (a number, integers included). */
function openAiExpected(mask: number): string {
  // A decimal field takes integers too: named once, as OpenAI does.
  const kinds = (mask & NUMBER) === NUMBER ? mask & ~INTEGER : mask;
  return OPENAI_NAMES.filter(([bit]) => kinds & bit)
    .map(([, name]) => name)
    .join(' or ');
}

function openAiGot(value: unknown): string {
  const kind = kindOf(value);
  return OPENAI_NAMES.find(([bit]) => bit === kind)?.[1] ?? `a ${typeof value}`;
}

function openAiError(problem: Problem): ApiError {
  const { param } = problem;
  let message: string;
  if (problem.missing) message = `Missing required parameter: '${param}'.`;
  else if (problem.empty)
    message = `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`;
  else
    message = `Invalid type for '${param}': expected ${openAiExpected(problem.expected ?? 0)}, but got ${openAiGot(problem.got)} instead.`;
  return new ApiError('validation_failed', message, { param });
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (kindOf(body) === OBJECT) return body as Record<string, unknown>;
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

const ANTHROPIC_FIELDS: Fields = {
  stream: BOOLEAN,
  system: STRING | ARRAY,
  temperature: NUMBER,
  top_p: NUMBER,
  top_k: INTEGER,
  stop_sequences: ARRAY,
  tools: ARRAY,
  tool_choice: OBJECT,
  metadata: OBJECT,
  thinking: OBJECT,
  service_tier: STRING,
};

function messagesProblem(body: Record<string, unknown>): Problem | null {
  const problem =
    required(body, 'model', STRING) ?? required(body, 'max_tokens', INTEGER) ?? required(body, 'messages', ARRAY);
  if (problem) return problem;
  if ((body.max_tokens as number) < 1) return { param: 'max_tokens', minimum: 1 };
  const messages = body.messages as unknown[];
  if (messages.length === 0) return { param: 'messages', empty: true };
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (kindOf(message) !== OBJECT) return { param: `messages.${i}`, expected: OBJECT, got: message };
    const record = message as Record<string, unknown>;
    const field =
      required(record, 'role', STRING) ??
      required(record, 'content', STRING | ARRAY) ??
      (Array.isArray(record.content) ? eachOf(record.content, OBJECT, 'content', true) : null);
    if (field) return under(`messages.${i}.`, field);
  }
  const field = checkFields(body, ANTHROPIC_FIELDS);
  if (field) return field;
  if (Array.isArray(body.stop_sequences)) {
    const stop = eachOf(body.stop_sequences, STRING, 'stop_sequences', true);
    if (stop) return stop;
  }
  return Array.isArray(body.tools) ? eachOf(body.tools, OBJECT, 'tools', true) : null;
}

const ANTHROPIC_NAMES: ReadonlyArray<[number, string]> = [
  [STRING, 'a valid string'],
  [INTEGER, 'a valid integer'],
  [DECIMAL, 'a valid number'],
  [BOOLEAN, 'a valid boolean'],
  [ARRAY, 'a valid list'],
  [OBJECT, 'a valid dictionary'],
];

/** Throws a 400 in Anthropic's wording (`max_tokens: Input should be a valid integer`) for a mistyped known field. */
export function checkAnthropicMessages(body: unknown): void {
  const problem = messagesProblem(bodyObject(body));
  if (!problem) return;
  const { param } = problem;
  let detail: string;
  if (problem.missing) detail = 'Field required';
  else if (problem.empty) detail = 'List should have at least 1 item after validation, not 0';
  else if (problem.minimum !== undefined) detail = `Input should be greater than or equal to ${problem.minimum}`;
  else {
    const mask = problem.expected ?? 0;
    const kinds = (mask & NUMBER) === NUMBER ? mask & ~INTEGER : mask;
    detail = `Input should be ${ANTHROPIC_NAMES.filter(([bit]) => kinds & bit)
      .map(([, name]) => name)
      .join(' or ')}`;
  }
  throw new ApiError('validation_failed', `${param}: ${detail}`, { param });
}
