/**
 * Gemini API addressing and auth. Reference: PROTOCOLS.md §4.1.
 */

import { joinUrl } from '../shared/http-request.js';
import type { UpstreamTarget } from '../types.js';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

export type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'batchEmbedContents' | 'embedContent';

/** `models/{model}`, unless the name already carries its collection (`models/…`, `tunedModels/…`), as js-genai does. */
export function geminiModelPath(model: string): string {
  return model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`;
}

/**
 * `${baseUrl}/models/{model}:{method}`; streaming forces `alt=sse` (without it the stream is one JSON
 * array). The key is never put in the URL.
 * @example geminiUrl(target, 'streamGenerateContent')
 * // 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
 */
export function geminiUrl(target: UpstreamTarget, method: GeminiMethod): string {
  const url = joinUrl(target.baseUrl, `${geminiModelPath(target.upstreamModel)}:${method}`);
  return method === 'streamGenerateContent' ? `${url}?alt=sse` : url;
}

/** `x-goog-api-key: <key>`. */
export function geminiAuthHeaders(target: UpstreamTarget): Record<string, string> {
  return target.apiKey === '' ? {} : { 'x-goog-api-key': target.apiKey };
}
