/**
 * The Batch API's wire shapes (OpenAI): the batch object, the input line
 * (`{custom_id, method, url, body}`), and the output / error line
 * (`{id, custom_id, response: {status_code, request_id, body} | null, error: {code, message} | null}`).
 * Pure functions: no I/O, no clock.
 */
import type { BatchesTable } from '../../infra/db/schema.js';

export const BATCH_STATUSES = [
  'validating',
  'failed',
  'in_progress',
  'finalizing',
  'completed',
  'expired',
  'cancelling',
  'cancelled',
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
export const FINISHED: readonly string[] = ['failed', 'completed', 'expired', 'cancelled'];

/** `completion_window` values and their length. */
export const COMPLETION_WINDOWS: Record<string, number> = { '24h': 24 * 3600_000 };

export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(Number(ms) / 1000));

/** OpenAI's batch object from a row. */
export function toBatchObject(row: BatchesTable) {
  return {
    id: row.id,
    object: 'batch' as const,
    endpoint: row.endpoint,
    errors: row.errors ? (JSON.parse(row.errors) as { object: 'list'; data: BatchError[] }) : null,
    input_file_id: row.input_file_id,
    completion_window: row.completion_window,
    status: row.status as BatchStatus,
    output_file_id: row.output_file_id,
    error_file_id: row.error_file_id,
    created_at: seconds(row.created_at) as number,
    in_progress_at: seconds(row.in_progress_at),
    expires_at: seconds(row.expires_at),
    finalizing_at: seconds(row.finalizing_at),
    completed_at: seconds(row.completed_at),
    failed_at: seconds(row.failed_at),
    expired_at: seconds(row.expired_at),
    cancelling_at: seconds(row.cancelling_at),
    cancelled_at: seconds(row.cancelled_at),
    request_counts: { total: row.total, completed: row.completed, failed: row.failed },
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, string>) : null,
  };
}

/** A checked input line: what to send, or why it cannot be sent (goes to the error file). */
export type LineCheck =
  | { ok: true; customId: string; body: Record<string, unknown> }
  | { ok: false; customId: string | null; code: string; message: string };

/** Check one parsed input line against the batch's endpoint. */
export function checkLine(value: Record<string, unknown>, endpoint: string): LineCheck {
  const customId = typeof value.custom_id === 'string' && value.custom_id !== '' ? value.custom_id : null;
  if (customId === null)
    return { ok: false, customId, code: 'missing_custom_id', message: "Each line needs a string 'custom_id'" };
  if (value.method !== 'POST') return { ok: false, customId, code: 'invalid_method', message: "'method' must be POST" };
  if (value.url !== endpoint)
    return {
      ok: false,
      customId,
      code: 'invalid_url',
      message: `'url' must be the batch's endpoint ${endpoint}, not ${JSON.stringify(value.url)}`,
    };
  const body = value.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, customId, code: 'invalid_body', message: "'body' must be a JSON object" };
  return { ok: true, customId, body: body as Record<string, unknown> };
}

/** The line's model, if it names one. */
export function modelOfLine(value: Record<string, unknown>): string | undefined {
  const body = value.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const model = (body as { model?: unknown }).model;
  return typeof model === 'string' ? model : undefined;
}

/** An output or error line for a request that ran (`status_code` ≥ 400 goes to the error file). */
export function responseLine(id: string, customId: string, status: number, requestId: string, body: unknown): string {
  return JSON.stringify({
    id,
    custom_id: customId,
    response: { status_code: status, request_id: requestId, body },
    error: null,
  });
}

/** An error-file line for a request that never ran (invalid, expired, cancelled). */
export function errorLine(id: string, customId: string | null, code: string, message: string): string {
  return JSON.stringify({ id, custom_id: customId, response: null, error: { code, message } });
}
