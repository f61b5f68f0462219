/**
 * OpenAI embeddings ⇄ Gemini `batchEmbedContents`. Reference: PROTOCOLS.md §4.6.
 * Request: one `{model, content:{parts:[{text}]}, outputDimensionality?}` per input, in order.
 * Response: `{embeddings:[{values}]}` in request order (a single `embedContent`-style
 * `{embedding:{values}}` is accepted too). Gemini reports no token counts for embeddings here, so usage
 * is taken from `usageMetadata.promptTokenCount` when present and is 0 otherwise.
 * Token-array inputs cannot be sent (Gemini takes text only) and are rejected before any call.
 */
import { toBase64Float32 } from '../shared/base64-float.js';
import { jsonPost } from '../shared/http-request.js';
import { isRecord, readArray, readNumber, readRecord } from '../shared/json.js';
import { UnsupportedRequestError } from '../shared/request-error.js';
import { invalidResponse } from '../shared/stream-error.js';
import type { EmbeddingsRequest, EmbeddingsResponse, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { geminiAuthHeaders, geminiModelPath, geminiUrl } from './api.js';
import { GEMINI_PROVIDER_NAME } from './response.js';

function textInputs(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item): item is string => typeof item === 'string')) return input;
  throw new UnsupportedRequestError('Gemini embeddings take text input only; token arrays are not supported');
}

/** POST `${baseUrl}/models/{model}:batchEmbedContents` with one request per input. */
export function buildGeminiEmbeddingsRequest(request: EmbeddingsRequest, target: UpstreamTarget): UpstreamHttpRequest {
  const model = geminiModelPath(target.upstreamModel);
  const requests = textInputs(request.input).map((text) => ({
    model,
    content: { parts: [{ text }] },
    ...(typeof request.dimensions === 'number' ? { outputDimensionality: request.dimensions } : {}),
  }));
  return jsonPost(geminiUrl(target, 'batchEmbedContents'), target.headers, geminiAuthHeaders(target), { requests });
}

function valuesOf(embedding: unknown, position: number): number[] {
  const values = isRecord(embedding) ? embedding.values : undefined;
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
    throw invalidResponse(GEMINI_PROVIDER_NAME, `embedding ${position} has no values`);
  }
  return values as number[];
}

export function parseGeminiEmbeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse {
  if (!isRecord(body)) throw invalidResponse(GEMINI_PROVIDER_NAME, 'the embeddings body is not a JSON object');
  const list = Array.isArray(body.embeddings)
    ? readArray(body, 'embeddings')
    : isRecord(body.embedding)
      ? [body.embedding]
      : undefined;
  if (!list) throw invalidResponse(GEMINI_PROVIDER_NAME, 'the embeddings body has no embeddings');
  const base64 = request.encoding_format === 'base64';
  const meta = readRecord(body, 'usageMetadata');
  const tokens = meta ? (readNumber(meta, 'promptTokenCount') ?? 0) : 0;
  return {
    object: 'list',
    data: list.map((embedding, index) => {
      const values = valuesOf(embedding, index);
      return { object: 'embedding' as const, index, embedding: base64 ? toBase64Float32(values) : values };
    }),
    model: request.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
