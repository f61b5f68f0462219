/**
 * OpenAI image generation on Gemini's Imagen models: `POST {base}/models/{model}:predict` with
 * `{ instances: [{ prompt }], parameters: { sampleCount, aspectRatio, imageSize? } }`, answered by
 * `{ predictions: [{ bytesBase64Encoded, mimeType }] }` (Gemini API, "Generate images using Imagen").
 * Imagen returns image bytes only, takes aspect ratios rather than pixel sizes, and has no edits or audio
 * API: what cannot be expressed is the client's 400 naming the field and the provider.
 */
import { joinUrl, mergeHeaders } from '../shared/http-request.js';
import { UnsupportedRequestError } from '../shared/request-error.js';
import type { JsonObject, JsonValue, MediaApi, MediaRequest, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { geminiAuthHeaders, geminiModelPath } from './api.js';

const PROVIDER = 'Gemini (Imagen)';

/** Imagen's aspect ratios, by width / height. */
const RATIOS: ReadonlyArray<readonly [string, number]> = [
  ['1:1', 1],
  ['3:4', 3 / 4],
  ['4:3', 4 / 3],
  ['9:16', 9 / 16],
  ['16:9', 16 / 9],
];

/** Imagen's aspect ratio for an OpenAI size (`1792x1024` → `16:9`); undefined for `auto` or none. */
export function imagenAspectRatio(size: unknown): string | undefined {
  if (size === undefined || size === null || size === 'auto') return undefined;
  const match = typeof size === 'string' ? /^(\d{2,5})x(\d{2,5})$/.exec(size) : null;
  if (match) {
    const ratio = Number(match[1]) / Number(match[2]);
    for (const [name, value] of RATIOS) if (Math.abs(ratio - value) / value < 0.03) return name;
  }
  throw new UnsupportedRequestError(
    `${PROVIDER} cannot make size ${JSON.stringify(size)}: use a size of aspect 1:1, 3:4, 4:3, 9:16 or 16:9 (e.g. 1024x1024, 1792x1024)`,
    { param: 'size' },
  );
}

/** The `:predict` request of an OpenAI images.generate body. */
export function buildImagenRequest(request: MediaRequest, target: UpstreamTarget): UpstreamHttpRequest {
  if (!('json' in request) || request.api !== 'image_generations')
    throw new UnsupportedRequestError(`${PROVIDER} channels do not serve ${request.api.replace('_', ' ')}`, {
      param: 'model',
    });
  const body = request.json;
  if (body.response_format !== undefined && body.response_format !== 'b64_json')
    throw new UnsupportedRequestError(`${PROVIDER} returns images only as b64_json, not ${body.response_format}`, {
      param: 'response_format',
    });
  const parameters: JsonObject = { sampleCount: typeof body.n === 'number' ? body.n : 1 };
  const aspectRatio = imagenAspectRatio(body.size);
  if (aspectRatio) parameters.aspectRatio = aspectRatio;
  if (body.quality === 'hd' || body.quality === 'high') parameters.imageSize = '2K';
  return {
    method: 'POST',
    url: joinUrl(target.baseUrl, `${geminiModelPath(target.upstreamModel)}:predict`),
    headers: mergeHeaders(target.headers, { 'Content-Type': 'application/json' }, geminiAuthHeaders(target)),
    body: JSON.stringify({ instances: [{ prompt: body.prompt ?? '' }], parameters }),
  };
}

/** Imagen's predictions as OpenAI's images answer (`created`, `data[{ b64_json }]`). */
export function parseImagenResponse(api: MediaApi, body: unknown): JsonObject {
  const predictions = (body as { predictions?: unknown } | null)?.predictions;
  const data: JsonValue[] = [];
  if (api === 'image_generations' && Array.isArray(predictions))
    for (const p of predictions as Array<Record<string, unknown>>)
      if (p && typeof p.bytesBase64Encoded === 'string') data.push({ b64_json: p.bytesBase64Encoded });
  // `created` is the answer's own time, as OpenAI sets it.
  return { created: Math.floor(Date.now() / 1000), data };
}
