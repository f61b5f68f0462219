/**
 * Account APIs shared by several providers: the OpenAI-style model list (`GET {base}/models`, answered
 * `{ object: "list", data: [{ id, object: "model", created, owned_by }] }` — OpenAI, DeepSeek, OpenRouter,
 * vLLM, Ollama's `/v1/models`, New API / One API) and reading decimal amounts into micro-units.
 */
import type { ModelListApi, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { mergeHeaders } from './http-request.js';
import { isRecord } from './json.js';

/** A GET with the channel's headers and the adapter's auth (the adapter's auth wins). */
export function jsonGet(
  url: string,
  channelHeaders: Record<string, string>,
  authHeaders: Record<string, string>,
): UpstreamHttpRequest {
  return { method: 'GET', url, headers: mergeHeaders(channelHeaders, { Accept: 'application/json' }, authHeaders) };
}

/** The `id`s (or another string field) of the objects in `list`, without duplicates, in the upstream's order. */
export function idsOf(list: unknown, field = 'id', strip = ''): string[] {
  if (!Array.isArray(list)) return [];
  const out = new Set<string>();
  for (const item of list) {
    const value = isRecord(item) ? item[field] : undefined;
    if (typeof value !== 'string' || value === '') continue;
    out.add(strip && value.startsWith(strip) ? value.slice(strip.length) : value);
  }
  return [...out];
}

/**
 * The OpenAI-style list: `GET {base}/models` with the given auth headers.
 * @example openAiModelList(bearerAuth).buildRequest(target).url // 'https://api.openai.com/v1/models'
 */
export function openAiModelList(
  auth: (target: UpstreamTarget) => Record<string, string>,
  url: (target: UpstreamTarget) => string = (target) => `${target.baseUrl.replace(/\/+$/, '')}/models`,
): ModelListApi {
  return {
    buildRequest: (target) => jsonGet(url(target), target.headers, auth(target)),
    parse: (body) => idsOf(isRecord(body) ? body.data : undefined),
  };
}

/** A decimal amount (number or numeric string, as providers send money) in micro-units; null when absent or bad. */
export function toMicros(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? Math.round(n * 1_000_000) : null;
}
