/**
 * POST /v1/rerank: the Cohere/Jina rerank shape (`model, query, documents, top_n, return_documents` →
 * `results[{ index, relevance_score, document? }]`) on channels whose adapter declares `rerank` (Cohere,
 * Jina, OpenAI-compatible servers such as vLLM). The answer is normalised (results read defensively, the
 * requested model name, `document` added from the request when asked for and the upstream left it out).
 * Billing: per search unit when the model has a search-unit price — the upstream's
 * `meta.billed_units.search_units` (Cohere), else one unit per 100 documents (Cohere's definition of a
 * search: one query over up to 100 documents); otherwise the upstream's `usage.total_tokens` at the model's
 * input price, and where the upstream reports only search units, the query and documents counted by the
 * tokenizer (marked estimated).
 */

import { documentTexts, readRerankResults } from '../../providers/shared/rerank.js';
import type { JsonObject } from '../../providers/types.js';
import { countTokensOf, type TokenCounts } from '../accounting.js';
import { bodyRecord, optionalField, requireField, requireItems } from '../surface-checks.js';
import type { Endpoint } from './endpoint.js';
import { forwardJson, notServed, servesForwarded } from './forwarded.js';

type RerankCall = JsonObject & { model: string; query: string; documents: unknown[] };

/** Tokens of a rerank: what the upstream reported, else the tokenizer's count of query and documents. */
async function countedTokens(call: RerankCall): Promise<TokenCounts> {
  let prompt = 0;
  for (const count of await countTokensOf([call.query, ...documentTexts(call.documents)])) prompt += count;
  return { prompt, completion: 0, cached: 0, reasoning: 0, estimated: true };
}

/** Search units: as the upstream billed them (Cohere's `meta.billed_units`), else one per 100 documents. */
export function searchUnits(call: RerankCall, upstream: JsonObject): number {
  const meta = upstream.meta;
  if (meta && typeof meta === 'object' && !Array.isArray(meta)) {
    const billed = meta.billed_units;
    if (billed && typeof billed === 'object' && !Array.isArray(billed) && typeof billed.search_units === 'number')
      return billed.search_units;
  }
  return Math.max(1, Math.ceil(call.documents.length / 100));
}

/** The answer for the client: the requested model, results (with documents when asked), usage and meta. */
function answerOf(call: RerankCall, upstream: JsonObject): JsonObject {
  const texts = documentTexts(call.documents);
  const withDocuments = call.return_documents === true;
  const results = readRerankResults(upstream).map((result) => {
    const index = result.index as number;
    if (!withDocuments) {
      const { document: _omitted, ...rest } = result;
      return rest;
    }
    return result.document === undefined ? { ...result, document: { text: texts[index] ?? '' } } : result;
  });
  const out: JsonObject = { model: call.model, results };
  if (typeof upstream.id === 'string') out.id = upstream.id;
  if (upstream.usage !== undefined) out.usage = upstream.usage;
  if (upstream.meta !== undefined) out.meta = upstream.meta;
  return out;
}

export const rerank: Endpoint<RerankCall, JsonObject> = {
  kind: 'rerank',
  accept(request) {
    const body = bodyRecord(request.body);
    requireField(body, 'model', ['string']);
    requireField(body, 'query', ['string']);
    requireField(body, 'documents', ['array']);
    requireItems(body, 'documents', ['string', 'object']);
    optionalField(body, 'top_n', ['integer']);
    optionalField(body, 'return_documents', ['boolean']);
    optionalField(body, 'max_tokens_per_doc', ['integer']);
    return body as RerankCall;
  },
  model: (call) => call.model,
  streams: () => false,
  estimate: (call) => ({
    promptTokens: Math.ceil(Buffer.byteLength(call.query + documentTexts(call.documents).join('')) / 2),
    maxOutputTokens: 0,
    units: { searchUnits: Math.max(1, Math.ceil(call.documents.length / 100)) },
  }),
  sink: () => undefined,
  async attempt(x, attempt) {
    if (!servesForwarded(attempt.target.channel.adapter, 'rerank')) throw notServed(attempt, 'rerank');
    return (await forwardJson(x, attempt, 'rerank', x.call)).body;
  },
  answer(call, upstream) {
    const usage = upstream.usage;
    const total =
      usage && typeof usage === 'object' && !Array.isArray(usage) && typeof usage.total_tokens === 'number'
        ? usage.total_tokens
        : undefined;
    const units = { searchUnits: searchUnits(call, upstream) };
    return {
      body: answerOf(call, upstream),
      tokens:
        total === undefined
          ? countedTokens(call).then((tokens) => ({ ...tokens, units }))
          : { prompt: total, completion: 0, cached: 0, reasoning: 0, estimated: false, units },
    };
  },
};
