/**
 * Cohere's Rerank API v2 (https://docs.cohere.com/reference/rerank): `POST {base}/v2/rerank` with a bearer
 * key; body `{ model, query, documents: string[], top_n?, max_tokens_per_doc? }` (v2 dropped
 * `return_documents`: the gateway adds the documents back itself); answer `{ id, results: [{ index,
 * relevance_score }], meta: { billed_units: { search_units } } }`. Errors are `{ message }` (or `{ id,
 * message }`). Only rerank is served here; Cohere's chat API is not translated (yet).
 */

import { bearerAuth } from '../openai/api.js';
import { parseOpenAiError } from '../openai/errors.js';
import { idsOf, jsonGet } from '../shared/account.js';
import { joinUrl, jsonPost } from '../shared/http-request.js';
import { isRecord, readNumber, readRecord } from '../shared/json.js';
import { UnsupportedRequestError } from '../shared/request-error.js';
import { documentTexts, readRerankResults, rerankOnlyChat } from '../shared/rerank.js';
import type { ForwardedApi, JsonObject, ProviderAdapter, UpstreamHttpRequest, UpstreamTarget } from '../types.js';

export const COHERE_DEFAULT_BASE_URL = 'https://api.cohere.com';

/** Only the fields v2 documents are sent (it refuses `return_documents`, `rank_fields`). */
export function buildCohereRerankRequest(
  api: ForwardedApi,
  body: JsonObject,
  target: UpstreamTarget,
): UpstreamHttpRequest {
  if (api !== 'rerank') throw new UnsupportedRequestError(`Cohere channels serve only rerank, not ${api}`);
  const out: JsonObject = { model: target.upstreamModel, query: body.query, documents: documentTexts(body.documents) };
  if (body.top_n !== undefined && body.top_n !== null) out.top_n = body.top_n;
  if (body.max_tokens_per_doc !== undefined) out.max_tokens_per_doc = body.max_tokens_per_doc;
  return jsonPost(joinUrl(target.baseUrl, 'v2/rerank'), target.headers, bearerAuth(target), out);
}

/** Cohere's answer in the gateway's rerank shape (its search units kept under `meta`). */
export function parseCohereRerankResponse(_api: ForwardedApi, body: unknown): JsonObject {
  const out: JsonObject = { results: readRerankResults(body) };
  if (isRecord(body) && typeof body.id === 'string') out.id = body.id;
  const units = isRecord(body)
    ? readNumber(readRecord(readRecord(body, 'meta') ?? {}, 'billed_units') ?? {}, 'search_units')
    : undefined;
  if (units !== undefined) out.meta = { billed_units: { search_units: units } };
  return out;
}

export const cohereAdapter: ProviderAdapter = {
  id: 'cohere',
  label: 'Cohere',
  key: 'required',
  baseUrl: { mode: 'default', default: COHERE_DEFAULT_BASE_URL },
  options: [],
  endpoints: ['rerank'],
  passThrough: [],
  openaiCompatible: false,
  promptOverhead: { perRequest: 0, perMessage: 0, withTools: 0 },
  ...rerankOnlyChat('Cohere'),
  buildForwardedRequest: buildCohereRerankRequest,
  parseForwardedResponse: parseCohereRerankResponse,
  parseError: (status, body, headers) => parseOpenAiError(status, body, headers, 'Cohere'),
  // GET /v1/models?endpoint=rerank → { models: [{ name, endpoints, … }], next_page_token } (docs.cohere.com, "List Models").
  modelList: {
    buildRequest: (target) =>
      jsonGet(
        `${joinUrl(target.baseUrl, 'v1/models')}?endpoint=rerank&page_size=1000`,
        target.headers,
        bearerAuth(target),
      ),
    parse: (body) => idsOf(isRecord(body) ? body.models : undefined, 'name'),
  },
};
