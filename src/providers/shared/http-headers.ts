/**
 * Reading upstream response headers, which arrive as a Node-style record (names in any case, values
 * possibly repeated).
 */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** The first value of header `name`, matched case-insensitively. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * Seconds to wait before retrying, from `retry-after-ms` then `retry-after` — the order the OpenAI SDK
 * uses (PROTOCOLS.md §1.5). `retry-after` may be seconds or an HTTP date; a date is only honoured when
 * `nowMs` is given, because turning it into seconds needs the current time (adapters stay pure).
 * @example retryAfterSeconds({ 'Retry-After': '7' }) // 7
 */
export function retryAfterSeconds(headers: ResponseHeaders, nowMs?: number): number | undefined {
  const ms = headerValue(headers, 'retry-after-ms')?.trim();
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms) / 1000);
  const value = headerValue(headers, 'retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value));
  if (nowMs === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}
