/**
 * Fake upstreams for the endpoints beyond chat (issue 19), each in its provider's documented wire format:
 * - Anthropic `POST /v1/messages/count_tokens` (x-api-key, anthropic-version; no max_tokens allowed;
 *   answers `{ input_tokens }`) — https://docs.anthropic.com/en/api/messages-count-tokens
 * - OpenAI `POST /v1/moderations` (`{ id, model, results: [{ flagged, categories, category_scores }] }`) and
 *   legacy `POST /v1/completions` (`text_completion` objects; the stream: `data:` chunks with
 *   `choices[].text`, a usage chunk with `choices: []` when `stream_options.include_usage`, `[DONE]`)
 *   — https://platform.openai.com/docs/api-reference/moderations, …/completions; Azure's deployment paths.
 * - Cohere `POST /v2/rerank` (`results[{ index, relevance_score }]`, `meta.billed_units.search_units`)
 *   — https://docs.cohere.com/reference/rerank
 * - Jina `POST /v1/rerank` (`results[{ index, relevance_score, document: { text } }]`, `usage.total_tokens`)
 *   — https://api.jina.ai/redoc#tag/rerank (vLLM's /v1/rerank answers the same shape).
 */
import { type FakeUpstream, header, isRecord, startFakeServer } from './http.js';

export type SurfaceFlavor = 'anthropic' | 'openai' | 'azure' | 'cohere' | 'jina';

/** The count a fake Anthropic answers (Anthropic's documentation example). */
export const FAKE_INPUT_TOKENS = 2095;
/** The text a fake legacy completion answers, and its usage. */
export const FAKE_COMPLETION_TEXT = 'This is indeed a test';
export const FAKE_COMPLETION_USAGE = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };

const CATEGORIES = ['harassment', 'hate', 'self-harm', 'sexual', 'violence'] as const;

function moderation(model: string, input: unknown): Record<string, unknown> {
  const texts = Array.isArray(input) ? input : [input];
  return {
    id: 'modr-0d9740456c391e43c445bf0f010940c7',
    model,
    results: texts.map((text) => {
      const flagged = typeof text === 'string' && text.includes('kill');
      return {
        flagged,
        categories: Object.fromEntries(CATEGORIES.map((c) => [c, flagged && c === 'violence'])),
        category_scores: Object.fromEntries(CATEGORIES.map((c) => [c, flagged && c === 'violence' ? 0.97 : 0.0001])),
      };
    }),
  };
}

function completion(model: string, echo: boolean, prompt: string): Record<string, unknown> {
  return {
    id: 'cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7',
    object: 'text_completion',
    created: 1589478378,
    model,
    system_fingerprint: 'fp_44709d6fcb',
    choices: [
      { text: `${echo ? prompt : ''}\n\n${FAKE_COMPLETION_TEXT}`, index: 0, logprobs: null, finish_reason: 'length' },
    ],
    usage: FAKE_COMPLETION_USAGE,
  };
}

function completionStream(model: string, includeUsage: boolean): string[] {
  const chunk = (text: string, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'cmpl-stream1', object: 'text_completion', created: 1589478378, model, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] })}\n\n`;
  const events = ['\n\n', ...FAKE_COMPLETION_TEXT.split(/(?= )/)].map((piece) => chunk(piece, null));
  events.push(chunk('', 'stop'));
  if (includeUsage)
    events.push(
      `data: ${JSON.stringify({ id: 'cmpl-stream1', object: 'text_completion', created: 1589478378, model, choices: [], usage: FAKE_COMPLETION_USAGE })}\n\n`,
    );
  events.push('data: [DONE]\n\n');
  return events;
}

/** Scores: documents containing a query word rank first. */
function scores(query: string, documents: unknown[]): Array<{ index: number; relevance_score: number; text: string }> {
  const words = query.toLowerCase().split(/\W+/).filter(Boolean);
  return documents
    .map((doc, index) => {
      const text = typeof doc === 'string' ? doc : isRecord(doc) && typeof doc.text === 'string' ? doc.text : '';
      const hits = words.filter((w) => text.toLowerCase().includes(w)).length;
      return { index, relevance_score: Math.round((0.1 + hits / (words.length + 1)) * 1000) / 1000, text };
    })
    .sort((a, b) => b.relevance_score - a.relevance_score);
}

const openAiError = (message: string, type = 'invalid_request_error') => ({
  error: { message, type, param: null, code: null },
});

export async function startSurfaceFake(flavor: SurfaceFlavor): Promise<FakeUpstream> {
  const key = `${flavor}-fake-key-${Math.random().toString(36).slice(2, 10)}`;
  return startFakeServer({
    key,
    baseUrl: (origin) => (flavor === 'openai' || flavor === 'jina' ? `${origin}/v1` : origin),
    handler: async (exchange) => {
      const { req } = exchange;
      const body = isRecord(req.body) ? req.body : {};
      const model = typeof body.model === 'string' ? body.model : '';
      if (flavor === 'anthropic') {
        if (req.path !== '/v1/messages/count_tokens')
          return exchange.json(404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } });
        if (header(req.headers, 'x-api-key') !== key || !header(req.headers, 'anthropic-version'))
          return exchange.json(401, {
            type: 'error',
            error: { type: 'authentication_error', message: 'invalid x-api-key' },
          });
        if ('max_tokens' in body)
          return exchange.json(400, {
            type: 'error',
            error: { type: 'invalid_request_error', message: 'max_tokens: Extra inputs are not permitted' },
          });
        if (model === 'claude-gone')
          return exchange.json(404, { type: 'error', error: { type: 'not_found_error', message: `model: ${model}` } });
        return exchange.json(200, { input_tokens: FAKE_INPUT_TOKENS });
      }
      if (flavor === 'cohere' || flavor === 'jina') {
        const path = flavor === 'cohere' ? '/v2/rerank' : '/v1/rerank';
        if (req.path !== path) return exchange.json(404, { message: `no route ${req.path}` });
        if (header(req.headers, 'authorization') !== `Bearer ${key}`)
          return exchange.json(401, { message: 'invalid api token' });
        if (typeof body.query !== 'string' || !Array.isArray(body.documents))
          return exchange.json(400, { message: 'invalid request: query and documents are required' });
        let ranked = scores(body.query, body.documents);
        if (typeof body.top_n === 'number') ranked = ranked.slice(0, body.top_n);
        if (flavor === 'cohere')
          return exchange.json(200, {
            id: '07734bd2-2473-4f07-94e1-0d9f0e6843cf',
            results: ranked.map(({ index, relevance_score }) => ({ index, relevance_score })),
            meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } },
          });
        return exchange.json(200, {
          model,
          usage: { total_tokens: 20 + body.documents.length * 10 },
          results: ranked.map(({ index, relevance_score, text }) => ({
            index,
            relevance_score,
            ...(body.return_documents === false ? {} : { document: { text } }),
          })),
        });
      }
      // OpenAI and Azure (classic deployment paths).
      let api = req.path.replace(/^\/v1\//, '');
      if (flavor === 'azure') {
        const match = /^\/openai\/deployments\/([^/]+)\/(.+)$/.exec(req.path);
        if (!match || header(req.headers, 'api-key') !== key || !req.query.get('api-version'))
          return exchange.json(404, openAiError(`Resource not found (${req.path})`));
        api = match[2] ?? '';
      } else if (header(req.headers, 'authorization') !== `Bearer ${key}`)
        return exchange.json(401, openAiError('Incorrect API key provided', 'invalid_request_error'));
      const served = flavor === 'azure' ? model || 'deployment' : model;
      if (api === 'moderations' && flavor === 'openai') return exchange.json(200, moderation(served, body.input));
      if (api === 'completions') {
        if (exchange.scenario.name === 'server_error') return exchange.json(500, openAiError('boom', 'server_error'));
        const prompt = typeof body.prompt === 'string' ? body.prompt : JSON.stringify(body.prompt);
        if (body.stream !== true) return exchange.json(200, completion(served, body.echo === true, prompt));
        const options = isRecord(body.stream_options) ? body.stream_options : {};
        await exchange.sse(completionStream(served, options.include_usage === true));
        return;
      }
      return exchange.json(404, openAiError(`Invalid URL (POST ${req.path})`));
    },
  });
}
