/**
 * Building the {@link UpstreamHttpRequest} every adapter returns: URL joining and header merging.
 */
import type { UpstreamHttpRequest } from '../types.js';

/** `${baseUrl}/${path}` with exactly one slash between them (channels often save a trailing slash). */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/**
 * Merges header records left to right; a later record replaces an earlier header of the same name in
 * any letter case, so a channel's `authorization` can never sit next to the adapter's `Authorization`.
 */
export function mergeHeaders(...records: Array<Record<string, string>>): Record<string, string> {
  const merged: Record<string, string> = {};
  const nameByLower = new Map<string, string>();
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      const previous = nameByLower.get(name.toLowerCase());
      if (previous !== undefined) delete merged[previous];
      nameByLower.set(name.toLowerCase(), name);
      merged[name] = value;
    }
  }
  return merged;
}

/**
 * A JSON POST. Channel headers come first so the adapter's auth and content type always win.
 * @example jsonPost('https://api.openai.com/v1/chat/completions', {}, { Authorization: 'Bearer …' }, body)
 */
export function jsonPost(
  url: string,
  channelHeaders: Record<string, string>,
  authHeaders: Record<string, string>,
  body: unknown,
): UpstreamHttpRequest {
  return {
    method: 'POST',
    url,
    headers: mergeHeaders(channelHeaders, { 'Content-Type': 'application/json' }, authHeaders),
    body: JSON.stringify(body),
  };
}
