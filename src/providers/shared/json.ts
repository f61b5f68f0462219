/**
 * Defensive readers for JSON that arrived from the network. Nothing an upstream sends is trusted to
 * match its documented type, so every field is read through one of these.
 */
import type { JsonObject } from '../types.js';

export type UnknownRecord = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is UnknownRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readString(record: UnknownRecord, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

export function readNumber(record: UnknownRecord, key: string): number | undefined {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function readRecord(record: UnknownRecord, key: string): UnknownRecord | undefined {
  const value = record[key];
  return isRecord(value) ? value : undefined;
}

/** The array at `key`, or `[]` when it is missing or not an array (vLLM may send `choices: null`). */
export function readArray(record: UnknownRecord, key: string): unknown[] {
  const value = record[key];
  return Array.isArray(value) ? value : [];
}

/** JSON.parse that reports failure as `undefined` instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Parses tool-call arguments (a JSON string in OpenAI's format) into an object, as Gemini `args` needs.
 * Models can emit invalid JSON (the OpenAI SDK warns about it) or a non-object; those become `{}`.
 */
export function parseToolArguments(text: string): JsonObject {
  const parsed = parseJson(text.trim() === '' ? '{}' : text);
  return isRecord(parsed) ? (parsed as JsonObject) : {};
}
