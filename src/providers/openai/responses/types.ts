/**
 * The OpenAI Responses API, as far as the gateway reads or writes it. Reference: OpenAI API reference,
 * "Responses" (https://platform.openai.com/docs/api-reference/responses) and "Streaming events"
 * (https://platform.openai.com/docs/api-reference/responses-streaming); PROTOCOLS.md §8.
 * Unknown fields are carried through (index signatures).
 */
import type { JsonObject, JsonValue } from '../../types.js';

/** A create request (`POST /v1/responses`). */
export interface ResponsesRequest {
  model: string;
  input?: string | JsonObject[];
  instructions?: string | null;
  tools?: JsonObject[];
  tool_choice?: JsonValue;
  parallel_tool_calls?: boolean | null;
  reasoning?: { effort?: string | null; summary?: string | null } | null;
  text?: { format?: JsonObject } | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  metadata?: Record<string, string> | null;
  store?: boolean | null;
  stream?: boolean | null;
  background?: boolean | null;
  previous_response_id?: string | null;
  user?: string;
  [key: string]: unknown;
}

/** `usage` of a response object. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'completed' | 'incomplete' | 'failed' | 'in_progress' | 'queued' | 'cancelled';

/** An output item: a message, a function call, a reasoning item (or anything else an upstream made). */
export type OutputItem = JsonObject & { type: string; id?: string };

/** The response object. */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number | null;
  text: { format: JsonObject };
  tool_choice: JsonValue;
  tools: JsonObject[];
  top_p: number | null;
  truncation: string;
  usage: ResponsesUsage | null;
  user: string | null;
  metadata: Record<string, string>;
  background: boolean;
  [key: string]: unknown;
}
