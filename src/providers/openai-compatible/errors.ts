/**
 * Errors from OpenAI-compatible servers: OpenAI's mapping, whose message extraction also reads the
 * variants these servers send (`{error:"…"}`, `{detail:"…"}`, `{message:"…"}`, numeric `error.code`).
 */
import { parseOpenAiError } from '../openai/errors.js';
import type { ResponseHeaders } from '../shared/http-headers.js';
import type { UpstreamErrorInfo } from '../types.js';
import { COMPATIBLE_PROVIDER_NAME } from './api.js';

export function parseCompatibleError(status: number, body: string, headers: ResponseHeaders): UpstreamErrorInfo {
  return parseOpenAiError(status, body, headers, COMPATIBLE_PROVIDER_NAME);
}
