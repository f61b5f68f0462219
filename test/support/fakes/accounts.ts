/**
 * The account APIs of the fake upstreams: model lists and balances, answered from test/fixtures/accounts/ in
 * each provider's shape. Each provider's fake calls its function first for GET requests.
 */
import { type Exchange, fixtureJson, header } from './http.js';
import type { OpenAiFlavor } from './openai-answers.js';

const bearerOf = (exchange: Exchange) => header(exchange.req.headers, 'authorization')?.replace(/^Bearer\s+/i, '');

function refuse(exchange: Exchange): true {
  exchange.json(401, {
    error: {
      message: 'Incorrect API key provided.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  });
  return true;
}

/**
 * GETs of an OpenAI-format fake: `/v1/models` (openai, ollama), `/models` and `/user/balance` (deepseek), and for
 * the openai flavor also OpenRouter's `/v1/credits` and New API's `/v1/dashboard/billing/*` (a reseller speaks
 * OpenAI plus these). Answers true when it answered.
 */
export function answerOpenAiAccount(flavor: OpenAiFlavor, exchange: Exchange, key: string): boolean {
  const { req } = exchange;
  if (req.method !== 'GET') return false;
  const authorised = flavor === 'ollama' || bearerOf(exchange) === key;
  const json = (name: string) => {
    if (!authorised) return refuse(exchange);
    exchange.json(200, fixtureJson('accounts', name));
    return true;
  };
  if (flavor === 'ollama' && req.path === '/v1/models') return json('ollama-models.json');
  if (flavor === 'deepseek' && req.path === '/models') return json('deepseek-models.json');
  if (flavor === 'deepseek' && req.path === '/user/balance') return json('deepseek-balance.json');
  if (flavor !== 'openai') return false;
  if (req.path === '/v1/models') return json('openai-models.json');
  if (req.path === '/v1/credits') return json('openrouter-credits.json');
  if (req.path === '/v1/dashboard/billing/subscription') return json('new-api-subscription.json');
  if (req.path === '/v1/dashboard/billing/usage') {
    if (!req.query.get('start_date') || !req.query.get('end_date')) {
      exchange.json(400, { error: { message: 'start_date and end_date are required', type: 'invalid_request_error' } });
      return true;
    }
    return json('new-api-usage.json');
  }
  return false;
}

/** Anthropic's `GET /v1/models` (x-api-key and anthropic-version required). */
export function answerAnthropicModels(exchange: Exchange, key: string): boolean {
  const { req } = exchange;
  if (req.method !== 'GET' || req.path !== '/v1/models') return false;
  if (header(req.headers, 'x-api-key') !== key || !header(req.headers, 'anthropic-version')) {
    exchange.json(401, {
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
    });
    return true;
  }
  exchange.json(200, fixtureJson('accounts', 'anthropic-models.json'));
  return true;
}

/** Gemini's `GET /v1beta/models` (x-goog-api-key required). */
export function answerGeminiModels(exchange: Exchange, key: string): boolean {
  const { req } = exchange;
  if (req.method !== 'GET' || req.path !== '/v1beta/models') return false;
  if (header(req.headers, 'x-goog-api-key') !== key) {
    exchange.json(400, {
      error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' },
    });
    return true;
  }
  exchange.json(200, fixtureJson('accounts', 'gemini-models.json'));
  return true;
}
