/**
 * OpenAI endpoint addresses and auth headers. Reference: PROTOCOLS.md §1.1, §1.6.
 */
import type { UpstreamTarget } from '../types.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** `Authorization: Bearer <key>`; no header at all when the channel has no key (local servers). */
export function bearerAuth(target: UpstreamTarget): Record<string, string> {
  return target.apiKey === '' ? {} : { Authorization: `Bearer ${target.apiKey}` };
}
