/**
 * Reasoning text normalisation for OpenAI-compatible upstreams. The canonical field is
 * `reasoning_content` (DeepSeek's name); upstreams also use `reasoning` (OpenRouter, Ollama, vLLM ≥ 0.11,
 * mlx-lm) or structured `reasoning_details` (OpenRouter). Some servers send the same text under two keys
 * in one delta, so exactly one source is used, in that order of preference.
 * Reference: PROTOCOLS.md §5.1–§5.4.
 */
import { isRecord, type UnknownRecord } from './json.js';

/**
 * Text of OpenRouter `reasoning_details` entries: `reasoning.text` → `text`, `reasoning.summary` →
 * `summary`; `reasoning.encrypted` carries no readable text and is skipped.
 */
export function reasoningDetailsText(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined;
  let text = '';
  for (const detail of details) {
    if (!isRecord(detail)) continue;
    if (detail.type === 'reasoning.text' && typeof detail.text === 'string') text += detail.text;
    else if (detail.type === 'reasoning.summary' && typeof detail.summary === 'string') text += detail.summary;
  }
  return text === '' ? undefined : text;
}

/** The reasoning text a message or delta carries, whichever field the upstream used. */
export function readReasoningText(record: UnknownRecord): string | undefined {
  for (const key of ['reasoning_content', 'reasoning'] as const) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return reasoningDetailsText(record.reasoning_details);
}

/**
 * Returns a copy of a message or delta with its reasoning under `reasoning_content`. A string (or null)
 * `reasoning` is removed so clients do not see the text twice; `reasoning_details` is kept because it
 * carries signatures some upstreams need back on later turns.
 * @example normaliseReasoning({ content: null, reasoning: 'think' }) // { content: null, reasoning_content: 'think' }
 */
export function normaliseReasoning<T extends UnknownRecord>(record: T): T {
  const text = readReasoningText(record);
  const hasLooseReasoning =
    'reasoning' in record && (typeof record.reasoning === 'string' || record.reasoning === null);
  if (text === undefined && !hasLooseReasoning) return record;
  const copy: UnknownRecord = { ...record };
  if (hasLooseReasoning) delete copy.reasoning;
  if (text !== undefined) copy.reasoning_content = text;
  return copy as T;
}
