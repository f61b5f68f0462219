/**
 * Jina AI's Reranker API (https://jina.ai/reranker, https://api.jina.ai/redoc#tag/rerank): `POST
 * {base}/rerank` (base `https://api.jina.ai/v1`) with a bearer key; body `{ model, query, documents,
 * top_n?, return_documents? }`; answer `{ model, usage: { total_tokens }, results: [{ index,
 * relevance_score, document?: { text } }] }` — already the gateway's rerank shape, so it passes through
 * after a defensive read. Errors are `{ detail }` (FastAPI). Only rerank is served here.
 */
import { bearerAuth } from '../openai/api.js';
import { parseOpenAiError } from '../openai/errors.js';
import { joinUrl, jsonPost } from '../shared/http-request.js';
import { isRecord, readNumber, readRecord } from '../shared/json.js';
import { UnsupportedRequestError } from '../shared/request-error.js';
import { readRerankResults, rerankOnlyChat } from '../shared/rerank.js';
import type { ForwardedApi, JsonObject, ProviderAdapter, UpstreamHttpRequest, UpstreamTarget } from '../types.js';

export const JINA_DEFAULT_BASE_URL = 'https://api.jina.ai/v1';

export function buildJinaRerankRequest(
  api: ForwardedApi,
  body: JsonObject,
  target: UpstreamTarget,
): UpstreamHttpRequest {
  if (api !== 'rerank') throw new UnsupportedRequestError(`Jina channels serve only rerank, not ${api}`);
  return jsonPost(joinUrl(target.baseUrl, 'rerank'), target.headers, bearerAuth(target), {
    ...body,
    model: target.upstreamModel,
  });
}

export function parseJinaRerankResponse(_api: ForwardedApi, body: unknown): JsonObject {
  const out: JsonObject = { results: readRerankResults(body) };
  const tokens = isRecord(body) ? readNumber(readRecord(body, 'usage') ?? {}, 'total_tokens') : undefined;
  if (tokens !== undefined) out.usage = { total_tokens: tokens };
  return out;
}

export const jinaAdapter: ProviderAdapter = {
  id: 'jina',
  label: 'Jina AI',
  key: 'required',
  baseUrl: { mode: 'default', default: JINA_DEFAULT_BASE_URL },
  options: [],
  endpoints: ['rerank'],
  passThrough: [],
  openaiCompatible: false,
  promptOverhead: { perRequest: 0, perMessage: 0, withTools: 0 },
  ...rerankOnlyChat('Jina'),
  buildForwardedRequest: buildJinaRerankRequest,
  parseForwardedResponse: parseJinaRerankResponse,
  parseError: (status, body, headers) => parseOpenAiError(status, body, headers, 'Jina'),
};
