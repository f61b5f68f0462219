/**
 * Type checks of the bodies of /v1/moderations, /v1/completions and /v1/rerank, in OpenAI's wording (as
 * ./request-checks.ts does for chat): a missing or mistyped field the gateway relies on is the client's
 * 400 naming the field, never something sent upstream or blamed on a channel. Values and unknown fields
 * are the upstream's to judge.
 */
import { ApiError } from '../core/errors.js';

type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';

const ARTICLE: Record<Kind, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a decimal',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
};

function kindOf(value: unknown): Kind | 'null' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number')
    return Number.isInteger(value) ? 'integer' : Number.isFinite(value) ? 'number' : 'other';
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'object') return typeof value as Kind;
  return 'other';
}

function matches(value: unknown, kinds: readonly Kind[]): boolean {
  const kind = kindOf(value);
  return (kinds as readonly string[]).includes(kind) || (kind === 'integer' && kinds.includes('number'));
}

function invalid(param: string, kinds: readonly Kind[], value: unknown): ApiError {
  const got = kindOf(value);
  const gotText = got === 'null' ? 'null' : got === 'other' ? `a ${typeof value}` : ARTICLE[got];
  return new ApiError(
    'validation_failed',
    `Invalid type for '${param}': expected ${kinds.map((k) => ARTICLE[k]).join(' or ')}, but got ${gotText} instead.`,
    { param },
  );
}

/** The body as an object, or the client's 400. */
export function bodyRecord(body: unknown): Record<string, unknown> {
  if (kindOf(body) === 'object') return body as Record<string, unknown>;
  throw new ApiError('validation_failed', 'The request body must be a JSON object.');
}

/** `body[param]` is present and of one of `kinds`. */
export function requireField(body: Record<string, unknown>, param: string, kinds: readonly Kind[]): void {
  const value = body[param];
  if (value === undefined || value === null)
    throw new ApiError('validation_failed', `Missing required parameter: '${param}'.`, { param });
  if (!matches(value, kinds)) throw invalid(param, kinds, value);
}

/** `body[param]`, when present (null means unset), is of one of `kinds`. */
export function optionalField(body: Record<string, unknown>, param: string, kinds: readonly Kind[]): void {
  const value = body[param];
  if (value !== undefined && value !== null && !matches(value, kinds)) throw invalid(param, kinds, value);
}

/** A non-empty array whose items are each of one of `kinds`. */
export function requireItems(body: Record<string, unknown>, param: string, kinds: readonly Kind[]): void {
  const items = body[param] as unknown[];
  if (items.length === 0)
    throw new ApiError(
      'validation_failed',
      `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
      { param },
    );
  for (let i = 0; i < items.length; i++)
    if (!matches(items[i], kinds)) throw invalid(`${param}[${i}]`, kinds, items[i]);
}
