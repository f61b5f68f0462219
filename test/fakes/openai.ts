/**
 * A fake OpenAI Chat Completions upstream, in four flavors that differ the way the real servers do
 * (PROTOCOLS.md §1, §2, §5):
 *
 * - `openai`   — POST /v1/chat/completions, /v1/embeddings; `Authorization: Bearer`; the usage chunk
 *                (`choices: []`) only when `stream_options.include_usage` is true.
 * - `azure`    — POST /openai/deployments/{d}/chat/completions?api-version=…; `api-key` header; a
 *                prompt-annotation chunk first, `content_filter_results` on every choice.
 * - `deepseek` — POST /chat/completions (and /v1/…); `reasoning_content` beside `content`; usage on the
 *                finish chunk with `prompt_cache_hit_tokens` / `prompt_cache_miss_tokens`.
 * - `ollama`   — POST /v1/chat/completions, /v1/embeddings; no auth; reasoning under `reasoning`; tool
 *                calls arrive whole in one delta; usage with only the three counts.
 *
 * Text and tool-call answers of the `openai` flavor replay the recorded fixtures byte for byte; other
 * answers are generated in the same shapes (see test/fixtures/<provider>/README.md).
 */
import {
  type CanonicalAnswer,
  type Exchange,
  type FakeUpstream,
  LONG_TEXT,
  eventData,
  fixtureEvents,
  fixtureJson,
  fragments,
  header,
  isRecord,
  pieces,
  startFakeServer,
} from './http.js';

export type OpenAiFlavor = 'openai' | 'azure' | 'deepseek' | 'ollama';

export interface OpenAiFakeOptions {
  flavor?: OpenAiFlavor;
  /** The provider key the fake accepts (ignored by the ollama flavor). */
  key?: string;
  /** Azure: the deployments that exist (default: any name). */
  deployments?: string[];
}

type AnswerScenario = 'text' | 'tool_call' | 'reasoning' | 'cached_usage' | 'long_text';

interface Meta {
  id: string;
  created: number;
  model: string;
  fingerprint: string | null;
}

interface Script {
  answer: CanonicalAnswer;
  meta: Meta;
  /** Non-stream body served verbatim (a fixture), else generated from `answer`. */
  body?: Record<string, unknown>;
  /** Stream events served verbatim (a fixture, usage included), else generated from `answer`. */
  events?: string[];
}

const usage = (prompt: number, completion: number, cached = 0, reasoning = 0) => ({ prompt, completion, cached, reasoning });

const OPENAI_TEXT = fixtureJson<{ choices: Array<{ message: { content: string } }> }>('openai', 'chat.json');
const AZURE_TEXT = fixtureJson<{ choices: Array<{ message: { content: string } }> }>('azure-openai', 'chat.json');

const WEATHER_CALL = { id: 'call_4XzlGBLtUe9dy3GVNV4jhq7h', name: 'get_weather', arguments: '{"city":"New York City"}' };

const OPENAI_META: Meta = { id: 'chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL', created: 1727346168, model: 'gpt-4o-2024-08-06', fingerprint: 'fp_5050236cbd' };

function openAiScripts(): Record<AnswerScenario, Script> {
  const reasoning: Script = {
    answer: { content: 'The answer is 42.', reasoning: null, toolCalls: [], finish: 'stop', usage: usage(2048, 320, 1920, 256) },
    meta: { id: 'chatcmpl-C3nYd2xQ8kLr5vTq1Wm0zPa7', created: 1754550000, model: 'o4-mini-2025-04-16', fingerprint: null },
    body: fixtureJson('openai', 'chat-reasoning-usage.json'),
  };
  return {
    text: {
      answer: { content: OPENAI_TEXT.choices[0]?.message.content ?? '', reasoning: null, toolCalls: [], finish: 'stop', usage: usage(14, 30) },
      meta: OPENAI_META,
      body: fixtureJson('openai', 'chat.json'),
      events: fixtureEvents('openai', 'stream-text.sse'),
    },
    tool_call: {
      answer: { content: null, reasoning: null, toolCalls: [WEATHER_CALL], finish: 'tool_calls', usage: usage(44, 16) },
      meta: { id: 'chatcmpl-ABfwERreu9s99xXsVuOWtIB2UOx62', created: 1727346182, model: 'gpt-4o-2024-08-06', fingerprint: 'fp_143bb8492c' },
      body: fixtureJson('openai', 'chat-tool-calls.json'),
      events: fixtureEvents('openai', 'stream-tool-calls.sse'),
    },
    reasoning,
    cached_usage: reasoning,
    long_text: { answer: { content: LONG_TEXT, reasoning: null, toolCalls: [], finish: 'stop', usage: usage(12, 200) }, meta: OPENAI_META },
  };
}

function azureScripts(): Record<AnswerScenario, Script> {
  const openai = openAiScripts();
  const meta: Meta = { id: 'chatcmpl-AzR7c1mPq2Xw9LkT4bVnYh3sDe8F', created: 1733240000, model: 'gpt-4o-2024-11-20', fingerprint: 'fp_b705f0c291' };
  const reasoning: Script = { answer: openai.reasoning.answer, meta };
  return {
    text: {
      answer: { content: AZURE_TEXT.choices[0]?.message.content ?? '', reasoning: null, toolCalls: [], finish: 'stop', usage: usage(19, 12) },
      meta,
      body: fixtureJson('azure-openai', 'chat.json'),
      events: fixtureEvents('azure-openai', 'stream-text.sse'),
    },
    tool_call: { answer: openai.tool_call.answer, meta },
    reasoning,
    cached_usage: reasoning,
    long_text: { answer: openai.long_text.answer, meta },
  };
}

function deepseekScripts(): Record<AnswerScenario, Script> {
  const cacheHit: Script = {
    answer: { content: 'Hello!', reasoning: null, toolCalls: [], finish: 'stop', usage: usage(1200, 3, 1152) },
    meta: { id: 'b2c1', created: 1754550123, model: 'deepseek-chat', fingerprint: null },
    body: fixtureJson('openai-compatible', 'deepseek-chat-cache-hit.json'),
  };
  const meta: Meta = { id: '3f0a8c1e-9d2b-4c7a-b5e1-6f4d2a9c8b71', created: 1754550123, model: 'deepseek-reasoner', fingerprint: 'fp_ffc7281d48_prod0820_fp8_kvcache' };
  return {
    text: cacheHit,
    cached_usage: cacheHit,
    reasoning: {
      answer: { content: '2 + 2 = 4.', reasoning: 'The user asks for 2+2. That is 4.', toolCalls: [], finish: 'stop', usage: usage(18, 24, 0, 14) },
      meta,
      body: fixtureJson('openai-compatible', 'chat.json'),
      events: fixtureEvents('openai-compatible', 'stream-text.sse'),
    },
    tool_call: {
      answer: {
        content: null,
        reasoning: null,
        toolCalls: [{ id: 'call_00_Xy7dQp2vKf', name: 'get_weather', arguments: '{"city":"Paris"}' }],
        finish: 'tool_calls',
        usage: usage(120, 20),
      },
      meta: { ...meta, model: 'deepseek-chat' },
    },
    long_text: { answer: { content: LONG_TEXT, reasoning: null, toolCalls: [], finish: 'stop', usage: usage(12, 200) }, meta: { ...meta, model: 'deepseek-chat' } },
  };
}

function ollamaScripts(): Record<AnswerScenario, Script> {
  const meta: Meta = { id: 'chatcmpl-512', created: 1754550200, model: 'qwen3:8b', fingerprint: 'fp_ollama' };
  const text: Script = { answer: { content: 'Hello from Ollama.', reasoning: null, toolCalls: [], finish: 'stop', usage: usage(10, 5) }, meta };
  return {
    text,
    cached_usage: text,
    reasoning: {
      answer: { content: 'Paris.', reasoning: 'The capital of France is Paris.', toolCalls: [], finish: 'stop', usage: usage(15, 12) },
      meta: { ...meta, id: 'chatcmpl-77' },
      body: fixtureJson('openai-compatible', 'ollama-chat-reasoning.json'),
    },
    tool_call: {
      answer: {
        content: null,
        reasoning: 'The user wants the weather in Paris; call the tool.',
        toolCalls: [{ id: 'call_k3m9x2ab', name: 'get_weather', arguments: '{"city":"Paris"}' }],
        finish: 'tool_calls',
        usage: usage(142, 37),
      },
      meta,
      events: fixtureEvents('openai-compatible', 'ollama-stream-tool-calls.sse'),
    },
    long_text: { answer: { content: LONG_TEXT, reasoning: null, toolCalls: [], finish: 'stop', usage: usage(12, 200) }, meta },
  };
}

const SCRIPTS: Record<OpenAiFlavor, () => Record<AnswerScenario, Script>> = {
  openai: openAiScripts,
  azure: azureScripts,
  deepseek: deepseekScripts,
  ollama: ollamaScripts,
};

/** What each scenario answers, per flavor, in canonical terms (what the gateway must return). */
export function openAiAnswers(flavor: OpenAiFlavor): Record<AnswerScenario, CanonicalAnswer> {
  const scripts = SCRIPTS[flavor]();
  return Object.fromEntries(Object.entries(scripts).map(([name, script]) => [name, script.answer])) as Record<AnswerScenario, CanonicalAnswer>;
}

/** The text a `stream_error` scenario sends before its error event, per flavor. */
export const OPENAI_STREAM_ERROR_PARTIAL: Record<OpenAiFlavor, string> = { openai: 'Partial', azure: 'Partial', deepseek: 'Calling', ollama: 'Calling' };

// ---------------------------------------------------------------------------------------------------
// Wire shapes

const FILTER_SAFE = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

function usageObject(flavor: OpenAiFlavor, u: CanonicalAnswer['usage']): Record<string, unknown> {
  const counts = { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion };
  switch (flavor) {
    case 'ollama':
      return counts;
    case 'deepseek':
      return {
        ...counts,
        ...(u.reasoning > 0 ? { completion_tokens_details: { reasoning_tokens: u.reasoning } } : {}),
        prompt_cache_hit_tokens: u.cached,
        prompt_cache_miss_tokens: u.prompt - u.cached,
      };
    default:
      return {
        ...counts,
        prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: u.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      };
  }
}

function messageOf(flavor: OpenAiFlavor, answer: CanonicalAnswer): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: answer.content ?? (flavor === 'ollama' ? '' : null) };
  if (answer.reasoning !== null) message[flavor === 'ollama' ? 'reasoning' : 'reasoning_content'] = answer.reasoning;
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
  }
  if (flavor === 'openai' || flavor === 'azure') Object.assign(message, { refusal: null, annotations: [] });
  return message;
}

function completionBody(flavor: OpenAiFlavor, script: Script, omitUsage: boolean): Record<string, unknown> {
  const { answer, meta } = script;
  const choice: Record<string, unknown> = { index: 0, message: messageOf(flavor, answer), logprobs: null, finish_reason: answer.finish };
  if (flavor === 'azure') choice.content_filter_results = FILTER_SAFE;
  const body: Record<string, unknown> = { id: meta.id, object: 'chat.completion', created: meta.created, model: meta.model, choices: [choice] };
  if (!omitUsage) body.usage = usageObject(flavor, answer.usage);
  if (flavor === 'azure') body.prompt_filter_results = [{ prompt_index: 0, content_filter_results: FILTER_SAFE }];
  if (flavor === 'openai') body.service_tier = 'default';
  body.system_fingerprint = meta.fingerprint;
  return body;
}

const data = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
const DONE = 'data: [DONE]\n\n';

function chunkEvents(flavor: OpenAiFlavor, script: Script, includeUsage: boolean): string[] {
  const { answer, meta } = script;
  const base = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    ...(meta.fingerprint ? { system_fingerprint: meta.fingerprint } : {}),
    choices,
    ...(flavor === 'azure' ? { usage: null } : {}),
    ...extra,
  });
  const choice = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
    index: 0,
    delta,
    ...(flavor === 'ollama' ? {} : { logprobs: null }),
    finish_reason: finish,
    ...(flavor === 'azure' ? { content_filter_results: delta.content ? FILTER_SAFE : {} } : {}),
  });
  const events: string[] = [];
  if (flavor === 'azure') {
    events.push(data({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_SAFE }] }));
  }
  const toolsOnly = answer.content === null && answer.toolCalls.length > 0;
  const role: Record<string, unknown> = { role: 'assistant', content: toolsOnly && flavor !== 'ollama' ? null : '' };
  if (flavor === 'openai' || flavor === 'azure') role.refusal = null;
  if (flavor === 'deepseek' && answer.reasoning !== null) Object.assign(role, { content: null, reasoning_content: '' });
  events.push(data(base([choice(role)])));
  for (const piece of pieces(answer.reasoning ?? '')) {
    if (flavor === 'ollama') events.push(data(base([choice({ role: 'assistant', content: '', reasoning: piece })])));
    else events.push(data(base([choice({ content: null, reasoning_content: piece })])));
  }
  for (const piece of pieces(answer.content ?? '')) events.push(data(base([choice({ content: piece })])));
  answer.toolCalls.forEach((call, index) => {
    if (flavor === 'ollama') {
      events.push(data(base([choice({ role: 'assistant', content: '', tool_calls: [{ id: call.id, index, type: 'function', function: { name: call.name, arguments: call.arguments } }] })])));
      return;
    }
    events.push(data(base([choice({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] })])));
    for (const part of fragments(call.arguments, 4)) events.push(data(base([choice({ tool_calls: [{ index, function: { arguments: part } }] })])));
  });
  const finishDelta = flavor === 'ollama' ? { role: 'assistant', content: '' } : {};
  if (flavor === 'deepseek') {
    events.push(data(base([choice({ content: '', reasoning_content: null }, answer.finish)], includeUsage ? { usage: usageObject(flavor, answer.usage) } : {})));
  } else {
    events.push(data(base([choice(finishDelta, answer.finish)])));
    if (includeUsage) events.push(data(base([], { usage: usageObject(flavor, answer.usage) })));
  }
  events.push(DONE);
  return events;
}

/** Drop (or strip) the usage of replayed events when the client did not ask for it. */
function withoutUsage(events: string[]): string[] {
  const out: string[] = [];
  for (const event of events) {
    const payload = eventData(event);
    if (!payload || !isRecord(payload.usage)) {
      out.push(event);
      continue;
    }
    if (!Array.isArray(payload.choices) || payload.choices.length === 0) continue;
    const { usage: _dropped, ...rest } = payload;
    out.push(data(rest));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Errors

function masked(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 3)}${'*'.repeat(Math.max(4, key.length - 7))}${key.slice(-4)}`;
}

function openAiError(message: string, type: string, param: string | null, code: string | null): Record<string, unknown> {
  return { error: { message, type, param, code } };
}

interface ErrorAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function unauthorized(flavor: OpenAiFlavor, presented: string | undefined): ErrorAnswer {
  if (flavor === 'azure') return { status: 401, body: fixtureJson('azure-openai', 'error-401.json') };
  if (flavor === 'deepseek') {
    return { status: 401, body: openAiError(`Authentication Fails, Your api key: ****${(presented ?? '').slice(-4)} is invalid`, 'authentication_error', null, 'invalid_request_error') };
  }
  if (!presented) {
    return {
      status: 401,
      body: openAiError(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        null,
        null,
      ),
    };
  }
  return {
    status: 401,
    body: openAiError(
      `Incorrect API key provided: ${masked(presented)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      null,
      'invalid_api_key',
    ),
  };
}

function rateLimited(flavor: OpenAiFlavor, retryAfter: number): ErrorAnswer {
  const headers: Record<string, string> = { 'retry-after': String(retryAfter) };
  if (flavor === 'openai') {
    Object.assign(headers, {
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': `${retryAfter}s`,
      'x-should-retry': 'true',
    });
  }
  const file = flavor === 'azure' ? ['azure-openai', 'error-429.json'] : flavor === 'openai' ? ['openai', 'error-429.json'] : ['openai-compatible', 'error-429.json'];
  return { status: 429, body: fixtureJson(file[0] as string, file[1] as string), headers };
}

function serverError(flavor: OpenAiFlavor): ErrorAnswer {
  if (flavor === 'azure') return { status: 500, body: fixtureJson('azure-openai', 'error-500.json') };
  if (flavor === 'ollama') return { status: 500, body: fixtureJson('openai-compatible', 'error-500.json') };
  return { status: 500, body: fixtureJson('openai', 'error-500.json') };
}

const badRequest = (): ErrorAnswer => ({ status: 400, body: fixtureJson('openai', 'error-400.json') });

/** The request checks the real services make before generating anything. */
function invalidRequest(body: unknown): ErrorAnswer | undefined {
  if (!isRecord(body)) return { status: 400, body: openAiError('We could not parse the JSON body of your request.', 'invalid_request_error', null, null) };
  if (typeof body.model !== 'string' || body.model === '') {
    return { status: 400, body: openAiError('you must provide a model parameter', 'invalid_request_error', null, null) };
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return { status: 400, body: openAiError("Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter') };
  }
  const messages = body.messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (!isRecord(message) || message.role !== 'tool') continue;
    const answered = messages.slice(0, i).some((m) => isRecord(m) && m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.some((c) => isRecord(c) && c.id === message.tool_call_id));
    if (!answered) {
      return {
        status: 400,
        body: openAiError(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          'invalid_request_error',
          `messages.[${i}].role`,
          null,
        ),
      };
    }
  }
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    return { status: 400, body: openAiError("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'invalid_request_error', 'stream_options', null) };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Routing

type Endpoint = { kind: 'chat' | 'embeddings'; deployment?: string } | { kind: 'not_found'; body: unknown };

function route(flavor: OpenAiFlavor, path: string, query: URLSearchParams, deployments: string[] | undefined): Endpoint {
  if (flavor === 'azure') {
    const match = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(path);
    if (!match || !query.get('api-version')) return { kind: 'not_found', body: { error: { code: '404', message: 'Resource not found' } } };
    const deployment = decodeURIComponent(match[1] as string);
    if (deployments && !deployments.includes(deployment)) return { kind: 'not_found', body: fixtureJson('azure-openai', 'error-404.json') };
    return { kind: match[2] === 'embeddings' ? 'embeddings' : 'chat', deployment };
  }
  const chatPaths = flavor === 'deepseek' ? ['/chat/completions', '/v1/chat/completions'] : ['/v1/chat/completions'];
  if (chatPaths.includes(path)) return { kind: 'chat' };
  if (flavor !== 'deepseek' && path === '/v1/embeddings') return { kind: 'embeddings' };
  return { kind: 'not_found', body: openAiError(`Invalid URL (POST ${path})`, 'invalid_request_error', null, null) };
}

function authorised(flavor: OpenAiFlavor, exchange: Exchange, key: string): { ok: boolean; presented: string | undefined } {
  if (flavor === 'ollama') return { ok: true, presented: undefined };
  const bearer = header(exchange.req.headers, 'authorization');
  const presentedBearer = bearer?.toLowerCase().startsWith('bearer ') ? bearer.slice(7).trim() : undefined;
  if (flavor === 'azure') {
    const apiKey = header(exchange.req.headers, 'api-key') ?? presentedBearer;
    return { ok: apiKey === key, presented: apiKey };
  }
  return { ok: presentedBearer === key, presented: presentedBearer };
}

/** A deterministic small vector for an embedding input. */
function vectorOf(text: string): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return [((h % 1000) / 1000) - 0.5, (((h >>> 10) % 1000) / 1000) - 0.5, (((h >>> 20) % 1000) / 1000) - 0.5];
}

function base64Floats(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer.toString('base64');
}

function embeddings(body: Record<string, unknown>): ErrorAnswer {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))) : [];
  if (texts.length === 0) return { status: 400, body: openAiError("'$.input' is invalid.", 'invalid_request_error', null, null) };
  const tokens = texts.reduce((sum, text) => sum + text.split(/\s+/).filter(Boolean).length, 0);
  return {
    status: 200,
    body: {
      object: 'list',
      data: texts.map((text, index) => ({ object: 'embedding', index, embedding: body.encoding_format === 'base64' ? base64Floats(vectorOf(text)) : vectorOf(text) })),
      model: typeof body.model === 'string' ? body.model : 'text-embedding-3-small',
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

/** The vector the fake returns for `text` (so tests can compare). */
export const fakeEmbeddingVector = vectorOf;

/** Start a fake OpenAI-format upstream. `baseUrl` is what a channel of the matching type should use. */
export async function start(options: OpenAiFakeOptions = {}): Promise<FakeUpstream> {
  const flavor = options.flavor ?? 'openai';
  const key = options.key ?? `sk-fake-${flavor}-9Qm2Lx7Vw4Rt8Zp3Kd6Hs1Ja5`;
  const scripts = SCRIPTS[flavor]();
  return startFakeServer({
    key,
    baseUrl: (origin) => (flavor === 'openai' || flavor === 'ollama' ? `${origin}/v1` : origin),
    handler: async (exchange) => {
      const { req, scenario } = exchange;
      const endpoint = route(flavor, req.path, req.query, options.deployments);
      if (req.method !== 'POST' || endpoint.kind === 'not_found') {
        exchange.json(404, endpoint.kind === 'not_found' ? endpoint.body : openAiError('Not found', 'invalid_request_error', null, null));
        return;
      }
      const auth = authorised(flavor, exchange, key);
      if (!auth.ok || scenario.name === 'unauthorized') {
        const error = unauthorized(flavor, auth.presented);
        exchange.json(error.status, error.body, error.headers);
        return;
      }
      const body = req.body;
      if (endpoint.kind === 'embeddings') {
        const answer = embeddings(isRecord(body) ? body : {});
        exchange.json(answer.status, answer.body);
        return;
      }
      const invalid = invalidRequest(body);
      const fault =
        invalid ??
        (scenario.name === 'rate_limit'
          ? rateLimited(flavor, scenario.retryAfterSeconds ?? 7)
          : scenario.name === 'server_error'
            ? serverError(flavor)
            : scenario.name === 'bad_request'
              ? badRequest()
              : undefined);
      if (fault) {
        exchange.json(fault.status, fault.body, fault.headers);
        return;
      }
      const request = body as Record<string, unknown>;
      const stream = request.stream === true;
      const includeUsage = isRecord(request.stream_options) && request.stream_options.include_usage === true && !scenario.omitUsage;
      if (scenario.name === 'stream_error') {
        const events = flavor === 'openai' || flavor === 'azure' ? fixtureEvents('openai', 'stream-error.sse') : fixtureEvents('openai-compatible', 'stream-error.sse');
        await exchange.sse(events);
        return;
      }
      const scriptName: AnswerScenario = scenario.name === 'reset_mid_stream' ? 'long_text' : (scenario.name as AnswerScenario);
      const script = scripts[scriptName] ?? scripts.text;
      if (!stream) {
        const verbatim = script.body && !scenario.omitUsage ? script.body : undefined;
        exchange.json(200, verbatim ?? completionBody(flavor, script, scenario.omitUsage === true), { 'x-request-id': `req_${script.meta.id}` });
        return;
      }
      let events = script.events ? (includeUsage ? script.events : withoutUsage(script.events)) : chunkEvents(flavor, script, includeUsage);
      if (scenario.omitUsage) events = withoutUsage(events);
      await exchange.sse(events, scenario.name === 'reset_mid_stream' ? { resetAfter: 6 } : {});
    },
  });
}
