/**
 * The gateway's rerank format (the Jina / Cohere v1 shape that rerank clients read, PROTOCOLS-style notes in
 * docs/api/rerank.md): request `{ model, query, documents: (string | { text })[], top_n?, return_documents? }`,
 * answer `{ id?, model, results: [{ index, relevance_score, document?: { text } }], usage?: { total_tokens },
 * meta?: { billed_units: { search_units } } }`. And the stand-ins rerank-only providers use for the chat
 * methods every adapter has: a chat request routed to such a channel fails over to the model's next channel.
 */
import type { ChatCompletion, JsonValue, StreamTranslator, UpstreamHttpRequest } from '../types.js';

/** One ranked document: `{ index, relevance_score, document?: { text } }`. */
export type RerankResult = { [key: string]: JsonValue };

import { isRecord, readNumber } from './json.js';
import { UpstreamStreamError } from './stream-error.js';

/** The documents' texts (a document is a string or an object with `text`). */
export function documentTexts(documents: unknown): string[] {
  if (!Array.isArray(documents)) return [];
  return documents.map((doc) =>
    typeof doc === 'string' ? doc : isRecord(doc) && typeof doc.text === 'string' ? doc.text : '',
  );
}

/**
 * Results read defensively from an upstream answer: `{ index, relevance_score }` (plus `document` when it
 * came), ordered as the upstream ranked them; anything malformed is dropped.
 */
export function readRerankResults(body: unknown): RerankResult[] {
  const results = isRecord(body) && Array.isArray(body.results) ? body.results : [];
  const out: RerankResult[] = [];
  for (const result of results) {
    if (!isRecord(result)) continue;
    const index = readNumber(result, 'index');
    const score = readNumber(result, 'relevance_score');
    if (index === undefined || score === undefined) continue;
    const item: RerankResult = { index, relevance_score: score };
    const document = result.document;
    if (typeof document === 'string') item.document = { text: document };
    else if (isRecord(document) && typeof document.text === 'string') item.document = { text: document.text };
    out.push(item);
  }
  return out;
}

/** The stand-in chat methods of a provider that serves only rerank. */
export function rerankOnlyChat(label: string) {
  const refuse = (): never => {
    // Mapped and retryable: the model's next channel may chat; never the channel's fault.
    throw new UpstreamStreamError({
      status: 400,
      code: 'bad_request',
      message: `${label} channels serve only rerank`,
      retryable: true,
    });
  };
  return {
    buildChatRequest: (): UpstreamHttpRequest => refuse(),
    parseChatResponse: (): ChatCompletion => refuse(),
    createStreamTranslator: (): StreamTranslator => refuse(),
  };
}
