/**
 * What the image and audio endpoints share: one attempt against a channel whose adapter declares the media
 * API (a channel that does not is skipped, never blamed), the checks of a multipart form, and the answer's
 * body as the request log keeps it (image bytes and audio are replaced by their size).
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import type { JsonObject, MediaApi, MediaRequest } from '../../providers/types.js';
import { type TokenCounts, ZERO_TOKENS } from '../accounting.js';
import { ParsedForm } from '../multipart.js';
import type { Attempt } from '../pipeline/dispatch.js';
import { clientFault, UpstreamFailure } from '../pipeline/failure.js';
import { readText, type UpstreamResponse } from '../pipeline/upstream.js';
import type { Exchange } from './endpoint.js';
import { notServed } from './forwarded.js';

const LABELS: Record<MediaApi, string> = {
  image_generations: 'image generations',
  image_edits: 'image edits',
  transcriptions: 'audio transcriptions',
  translations: 'audio translations',
  speech: 'audio speech',
};

/** Send the media request to the attempt's channel; an upstream error status becomes the mapped failure. */
export async function sendMedia(
  x: Exchange<unknown>,
  attempt: Attempt,
  request: MediaRequest,
): Promise<UpstreamResponse> {
  const { channel } = attempt.target;
  const { adapter } = channel;
  const build = adapter.buildMediaRequest;
  if (!build || adapter.inProcess || !adapter.endpoints.includes(request.api))
    throw notServed(attempt, LABELS[request.api]);
  const http = clientFault(() => build.call(adapter, request, attempt.upstream));
  const res = await x.upstream.send(http, channel.timeouts, attempt.signal);
  attempt.upstreamStatus = res.status;
  if (res.status >= 400)
    throw new UpstreamFailure(adapter.parseError(res.status, await readText(res.body), res.headers));
  return res;
}

/** A JSON media answer: parsed (in OpenAI's shape via the adapter when it differs) and its bytes when unchanged. */
export async function mediaJson(
  attempt: Attempt,
  api: MediaApi,
  res: UpstreamResponse,
): Promise<{ body: JsonObject; raw: string | undefined }> {
  const text = await res.body.text();
  const parsed = JSON.parse(text) as unknown;
  const { adapter, name } = attempt.target.channel;
  if (adapter.parseMediaResponse) return { body: adapter.parseMediaResponse(api, parsed), raw: undefined };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UpstreamFailure({
      status: 502,
      code: 'upstream_error',
      message: `Upstream ${name} sent a malformed ${LABELS[api]} response`,
      retryable: true,
    });
  return { body: parsed as JsonObject, raw: text };
}

/** The request's multipart form (parsed by ../multipart.ts before the route ran). */
export function formOf(request: FastifyRequest): ParsedForm {
  if (!(request.body instanceof ParsedForm))
    throw new ApiError('unsupported_media_type', 'Send the body as multipart/form-data', { status: 415 });
  return request.body;
}

/** A required text field of a form. */
export function requireFormField(form: ParsedForm, name: string): string {
  const value = form.field(name);
  if (value === undefined || value === '')
    throw new ApiError('validation_failed', `Missing required parameter: '${name}'.`, { param: name });
  return value;
}

/** An optional integer field of a form (`n`), checked within bounds. */
export function formInteger(form: ParsedForm, name: string, min: number, max: number): number | undefined {
  const value = form.field(name);
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ApiError('validation_failed', `'${name}' must be an integer from ${min} to ${max}`, { param: name });
  return n;
}

/** A form must carry a file in one of `fields`; the first such field's name is the param of the error. */
export function requireFile(form: ParsedForm, fields: readonly string[]): void {
  if (!form.files.some((f) => fields.includes(f.field)))
    throw new ApiError('validation_failed', `Missing required file: '${fields[0]}'.`, { param: fields[0] });
}

/** Tokens of a media answer's `usage` (gpt-image-1, gpt-4o-transcribe: input/output tokens), else zero. */
export function usageTokens(usage: unknown): TokenCounts {
  if (!usage || typeof usage !== 'object' || Array.isArray(usage)) return ZERO_TOKENS;
  const u = usage as Record<string, unknown>;
  const input = typeof u.input_tokens === 'number' ? u.input_tokens : 0;
  const output = typeof u.output_tokens === 'number' ? u.output_tokens : 0;
  return { prompt: input, completion: output, cached: 0, reasoning: 0, estimated: false };
}

/** An images answer as logged: each `b64_json` replaced by its length (the rest as it came). */
export function loggedImages(body: JsonObject): JsonObject {
  const data = body.data;
  if (!Array.isArray(data)) return body;
  return {
    ...body,
    data: data.map((item) => {
      if (!item || typeof item !== 'object' || Array.isArray(item) || typeof item.b64_json !== 'string') return item;
      return { ...item, b64_json: `[${item.b64_json.length} base64 characters]` };
    }),
  };
}
