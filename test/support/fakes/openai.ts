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
 * answers are generated in the same shapes (see test/fixtures/<provider>/README.md). What each scenario
 * answers is in openai-answers.ts, how it is written on the wire in openai-wire.ts; this module is the
 * server: addresses, auth, request checks and errors.
 */

import { answerOpenAiAccount } from './accounts.js';
import {
  type Exchange,
  type FakeUpstream,
  fixtureEvents,
  fixtureJson,
  header,
  isRecord,
  startFakeServer,
} from './http.js';
import { type AnswerScenario, type OpenAiFlavor, SCRIPTS } from './openai-answers.js';
import { answerResponses, FakeResponsesState } from './openai-responses.js';
import { chunkEvents, completionBody, withoutUsage } from './openai-wire.js';

export interface OpenAiFakeOptions {
  flavor?: OpenAiFlavor;
  /** The provider key the fake accepts (ignored by the ollama flavor). */
  key?: string;
  /** Azure: the deployments that exist (default: any name). */
  deployments?: string[];
}

// ---------------------------------------------------------------------------------------------------
// Errors

function masked(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 3)}${'*'.repeat(Math.max(4, key.length - 7))}${key.slice(-4)}`;
}

function openAiError(
  message: string,
  type: string,
  param: string | null,
  code: string | null,
): Record<string, unknown> {
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
    return {
      status: 401,
      body: openAiError(
        `Authentication Fails, Your api key: ****${(presented ?? '').slice(-4)} is invalid`,
        'authentication_error',
        null,
        'invalid_request_error',
      ),
    };
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
  const file =
    flavor === 'azure'
      ? ['azure-openai', 'error-429.json']
      : flavor === 'openai'
        ? ['openai', 'error-429.json']
        : ['openai-compatible', 'error-429.json'];
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
  if (!isRecord(body))
    return {
      status: 400,
      body: openAiError('We could not parse the JSON body of your request.', 'invalid_request_error', null, null),
    };
  if (typeof body.model !== 'string' || body.model === '') {
    return {
      status: 400,
      body: openAiError('you must provide a model parameter', 'invalid_request_error', null, null),
    };
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return {
      status: 400,
      body: openAiError(
        "Missing required parameter: 'messages'.",
        'invalid_request_error',
        'messages',
        'missing_required_parameter',
      ),
    };
  }
  const messages = body.messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (!isRecord(message) || message.role !== 'tool') continue;
    const answered = messages
      .slice(0, i)
      .some(
        (m) =>
          isRecord(m) &&
          m.role === 'assistant' &&
          Array.isArray(m.tool_calls) &&
          m.tool_calls.some((c) => isRecord(c) && c.id === message.tool_call_id),
      );
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
    return {
      status: 400,
      body: openAiError(
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        'invalid_request_error',
        'stream_options',
        null,
      ),
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Routing

type Endpoint =
  | { kind: 'chat' | 'embeddings' | 'responses'; deployment?: string }
  | { kind: 'not_found'; body: unknown };

function route(
  flavor: OpenAiFlavor,
  path: string,
  query: URLSearchParams,
  deployments: string[] | undefined,
): Endpoint {
  if (flavor === 'azure') {
    const match = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(path);
    if (!match || !query.get('api-version'))
      return { kind: 'not_found', body: { error: { code: '404', message: 'Resource not found' } } };
    const deployment = decodeURIComponent(match[1] as string);
    if (deployments && !deployments.includes(deployment))
      return { kind: 'not_found', body: fixtureJson('azure-openai', 'error-404.json') };
    return { kind: match[2] === 'embeddings' ? 'embeddings' : 'chat', deployment };
  }
  const chatPaths = flavor === 'deepseek' ? ['/chat/completions', '/v1/chat/completions'] : ['/v1/chat/completions'];
  if (chatPaths.includes(path)) return { kind: 'chat' };
  if (flavor !== 'deepseek' && path === '/v1/embeddings') return { kind: 'embeddings' };
  // Only OpenAI itself serves the Responses API (the other flavors answer 404, as their servers do).
  if (flavor === 'openai' && path === '/v1/responses') return { kind: 'responses' };
  return { kind: 'not_found', body: openAiError(`Invalid URL (POST ${path})`, 'invalid_request_error', null, null) };
}

function authorised(
  flavor: OpenAiFlavor,
  exchange: Exchange,
  key: string,
): { ok: boolean; presented: string | undefined } {
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
  return [(h % 1000) / 1000 - 0.5, ((h >>> 10) % 1000) / 1000 - 0.5, ((h >>> 20) % 1000) / 1000 - 0.5];
}

function base64Floats(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    buffer.writeFloatLE(v, i * 4);
  });
  return buffer.toString('base64');
}

function embeddings(body: Record<string, unknown>): ErrorAnswer {
  const input = body.input;
  const texts =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input)
        ? input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)))
        : [];
  if (texts.length === 0)
    return { status: 400, body: openAiError("'$.input' is invalid.", 'invalid_request_error', null, null) };
  const tokens = texts.reduce((sum, text) => sum + text.split(/\s+/).filter(Boolean).length, 0);
  return {
    status: 200,
    body: {
      object: 'list',
      data: texts.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: body.encoding_format === 'base64' ? base64Floats(vectorOf(text)) : vectorOf(text),
      })),
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
  const responses = new FakeResponsesState();
  return startFakeServer({
    key,
    baseUrl: (origin) => (flavor === 'openai' || flavor === 'ollama' ? `${origin}/v1` : origin),
    handler: async (exchange) => {
      const { req, scenario } = exchange;
      if (answerOpenAiAccount(flavor, exchange, key)) return;
      const endpoint = route(flavor, req.path, req.query, options.deployments);
      if (req.method !== 'POST' || endpoint.kind === 'not_found') {
        exchange.json(
          404,
          endpoint.kind === 'not_found' ? endpoint.body : openAiError('Not found', 'invalid_request_error', null, null),
        );
        return;
      }
      const auth = authorised(flavor, exchange, key);
      if (!auth.ok || scenario.name === 'unauthorized') {
        const error = unauthorized(flavor, auth.presented);
        exchange.json(error.status, error.body, error.headers);
        return;
      }
      const body = req.body;
      const fault0 =
        scenario.name === 'rate_limit'
          ? rateLimited(flavor, scenario.retryAfterSeconds ?? 7)
          : scenario.name === 'server_error'
            ? serverError(flavor)
            : undefined;
      if (endpoint.kind === 'responses') {
        if (fault0) exchange.json(fault0.status, fault0.body, fault0.headers);
        else await answerResponses(exchange, auth.presented ?? '', responses);
        return;
      }
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
      const includeUsage =
        isRecord(request.stream_options) && request.stream_options.include_usage === true && !scenario.omitUsage;
      if (stream && scenario.replay) {
        await exchange.sse(scenario.replay);
        return;
      }
      if (scenario.name === 'stream_error') {
        const events =
          flavor === 'openai' || flavor === 'azure'
            ? fixtureEvents('openai', 'stream-error.sse')
            : fixtureEvents('openai-compatible', 'stream-error.sse');
        await exchange.sse(events);
        return;
      }
      const scriptName: AnswerScenario =
        scenario.name === 'reset_mid_stream' ? 'long_text' : (scenario.name as AnswerScenario);
      const script = scripts[scriptName] ?? scripts.text;
      if (!stream) {
        const verbatim = script.body && !scenario.omitUsage ? script.body : undefined;
        exchange.json(200, verbatim ?? completionBody(flavor, script, scenario.omitUsage === true), {
          'x-request-id': `req_${script.meta.id}`,
        });
        return;
      }
      let events = script.events
        ? includeUsage
          ? script.events
          : withoutUsage(script.events)
        : chunkEvents(flavor, script, includeUsage);
      if (scenario.omitUsage) events = withoutUsage(events);
      await exchange.sse(events, scenario.name === 'reset_mid_stream' ? { resetAfter: 6 } : {});
    },
  });
}

export { OPENAI_STREAM_ERROR_PARTIAL, type OpenAiFlavor, openAiAnswers } from './openai-answers.js';
