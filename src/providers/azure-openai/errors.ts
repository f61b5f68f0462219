/**
 * Azure OpenAI errors: the OpenAI mapping plus Azure's content filter. A prompt the filter blocks is
 * rejected with 400 and `error.code: "content_filter"` (also for streamed requests), the verdict per
 * category in `error.innererror.content_filter_result`. Retrying costs again, so it is not retryable.
 * Reference: PROTOCOLS.md §2.3.
 */
import { parseOpenAiError } from '../openai/errors.js';
import type { ResponseHeaders } from '../shared/http-headers.js';
import { isRecord, parseJson, readRecord } from '../shared/json.js';
import type { UpstreamErrorInfo } from '../types.js';
import { AZURE_PROVIDER_NAME } from './chat.js';

/** Names of the filter categories whose verdict was `filtered: true` (e.g. `jailbreak`, `hate`). */
function filteredCategories(error: Record<string, unknown>): string[] {
  const inner = readRecord(error, 'innererror');
  const result = inner ? readRecord(inner, 'content_filter_result') : undefined;
  if (!result) return [];
  return Object.entries(result)
    .filter(([, verdict]) => isRecord(verdict) && verdict.filtered === true)
    .map(([category]) => category);
}

/**
 * @example parseAzureError(400, '{"error":{"code":"content_filter","message":"…"}}', {}).code // 'bad_request'
 */
export function parseAzureError(status: number, body: string, headers: ResponseHeaders): UpstreamErrorInfo {
  const parsed = parseJson(body);
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  if (error?.code === 'content_filter') {
    const categories = filteredCategories(error);
    const which = categories.length > 0 ? ` (${categories.join(', ')})` : '';
    return {
      status: 400,
      code: 'bad_request',
      message: `Azure OpenAI's content filter blocked the prompt${which}`,
      retryable: false,
    };
  }
  return parseOpenAiError(status, body, headers, AZURE_PROVIDER_NAME);
}
