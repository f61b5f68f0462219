/**
 * Addressing the Anthropic Messages API: endpoint URL and request headers.
 * Reference: PROTOCOLS.md §3.1 (x-api-key, anthropic-version 2023-06-01, content-type).
 */
import type { UpstreamTarget } from '../types.js';
import { ANTHROPIC_VERSION } from './types.js';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** `${baseUrl}/v1/messages`, tolerating a trailing slash or a base URL that already ends in /v1. */
export function messagesUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`;
}

/**
 * Headers for one upstream call. Channel headers are applied last so an operator can override
 * `anthropic-version` or add `anthropic-beta`; header names are lower-cased so an override replaces
 * rather than duplicates.
 */
export function anthropicHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = {
    'x-api-key': target.apiKey,
    'anthropic-version': ANTHROPIC_VERSION,
    'content-type': 'application/json',
  };
  for (const [name, value] of Object.entries(target.headers)) {
    headers[name.toLowerCase()] = value;
  }
  return headers;
}
