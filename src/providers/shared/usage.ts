/**
 * Token usage in the OpenAI shape, read defensively from upstream bodies and stream payloads.
 * Reference: PROTOCOLS.md §1.3 (usage fields), §1.4 (usage chunk), §5.1 (DeepSeek cache fields),
 * §6.3 item 9 (normalisation).
 */
import type { ChatUsage } from '../types.js';
import { isRecord, readNumber, readRecord } from './json.js';

/**
 * A validated copy of an OpenAI-format `usage` object, or undefined when it has no token counts.
 * Unknown fields (OpenRouter `cost`, DeepSeek `prompt_cache_hit_tokens`) are kept; `total_tokens` is
 * filled in when missing; DeepSeek's `prompt_cache_hit_tokens` becomes `prompt_tokens_details.cached_tokens`
 * when the upstream did not report that itself.
 */
export function normaliseUsage(raw: unknown): ChatUsage | undefined {
  if (!isRecord(raw)) return undefined;
  const prompt = readNumber(raw, 'prompt_tokens');
  const completion = readNumber(raw, 'completion_tokens');
  const total = readNumber(raw, 'total_tokens');
  if (prompt === undefined && completion === undefined && total === undefined) return undefined;
  const usage = {
    ...raw,
    prompt_tokens: prompt ?? 0,
    completion_tokens: completion ?? Math.max(0, (total ?? 0) - (prompt ?? 0)),
    total_tokens: total ?? (prompt ?? 0) + (completion ?? 0),
  } as ChatUsage;
  const cacheHit = readNumber(raw, 'prompt_cache_hit_tokens');
  const details = readRecord(raw, 'prompt_tokens_details');
  if (cacheHit !== undefined && (details === undefined || readNumber(details, 'cached_tokens') === undefined)) {
    usage.prompt_tokens_details = { ...(details ?? {}), cached_tokens: cacheHit };
  }
  return usage;
}
