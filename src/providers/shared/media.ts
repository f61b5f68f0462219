/**
 * Media requests in OpenAI's own shape (images, audio): the client's JSON body or multipart form with the
 * upstream's model name, for OpenAI, Azure OpenAI and OpenAI-compatible servers. A multipart body is
 * rebuilt as a FormData (files from memory), so a failover attempt can send it again.
 * Reference: https://platform.openai.com/docs/api-reference/images, …/audio.
 */
import { FormData } from 'undici';
import type { JsonObject, MediaApi, MediaRequest, MultipartForm, UpstreamHttpRequest } from '../types.js';
import { mergeHeaders } from './http-request.js';

/** Each media API's path under an OpenAI base URL (`…/v1`). */
export const OPENAI_MEDIA_PATHS = {
  image_generations: 'images/generations',
  image_edits: 'images/edits',
  transcriptions: 'audio/transcriptions',
  translations: 'audio/translations',
  speech: 'audio/speech',
} as const satisfies Record<MediaApi, string>;

/** The request's form with `model` set to `model` (the client's `model` field replaced, in its place). */
export function formWithModel(request: { form: MultipartForm }, model: string | null): FormData {
  const form = new FormData();
  let named = false;
  for (const [name, value] of request.form.fields) {
    if (name === 'model') {
      if (model !== null && !named) form.append('model', model);
      named = true;
      continue;
    }
    form.append(name, value);
  }
  if (model !== null && !named) form.append('model', model);
  for (const file of request.form.files)
    form.append(file.field, new Blob([new Uint8Array(file.data)], { type: file.contentType }), file.filename);
  return form;
}

/**
 * The upstream request: JSON APIs as JSON (model renamed; `null` drops it, for Azure's deployment paths),
 * multipart APIs as a FormData. Channel headers first, then the adapter's; no content type for a form
 * (undici writes it with the boundary).
 */
export function openAiShapedMediaRequest(
  request: MediaRequest,
  url: string,
  channelHeaders: Record<string, string>,
  authHeaders: Record<string, string>,
  model: string | null,
): UpstreamHttpRequest {
  if ('json' in request) {
    const body: JsonObject = { ...request.json };
    if (model === null) delete body.model;
    else body.model = model;
    return {
      method: 'POST',
      url,
      headers: mergeHeaders(channelHeaders, { 'Content-Type': 'application/json' }, authHeaders),
      body: JSON.stringify(body),
    };
  }
  const headers = mergeHeaders(channelHeaders, authHeaders);
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-type') delete headers[name];
  return { method: 'POST', url, headers, form: formWithModel(request, model) };
}
