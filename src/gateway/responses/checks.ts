/**
 * Type checks of a `POST /v1/responses` body (as request-checks.ts does for the other /v1 bodies): a known
 * field of the wrong type is a 400 naming it, in OpenAI's wording; values are the upstream's to judge.
 */
import { ApiError } from '../../core/errors.js';

type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';

const FIELDS: Readonly<Record<string, readonly Kind[]>> = {
  model: ['string'],
  input: ['string', 'array'],
  instructions: ['string'],
  tools: ['array'],
  tool_choice: ['string', 'object'],
  parallel_tool_calls: ['boolean'],
  reasoning: ['object'],
  text: ['object'],
  max_output_tokens: ['integer'],
  temperature: ['number'],
  top_p: ['number'],
  metadata: ['object'],
  store: ['boolean'],
  stream: ['boolean'],
  background: ['boolean'],
  previous_response_id: ['string'],
  user: ['string'],
  include: ['array'],
  truncation: ['string'],
};

function kindOf(value: unknown): Kind | 'null' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number')
    return Number.isInteger(value) ? 'integer' : Number.isFinite(value) ? 'number' : 'other';
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'object') return typeof value as Kind;
  return 'other';
}

function accepts(expected: readonly Kind[], kind: string): boolean {
  return expected.includes(kind as Kind) || (kind === 'integer' && expected.includes('number'));
}

function wrongType(param: string, expected: readonly Kind[], got: string): ApiError {
  return new ApiError(
    'validation_failed',
    `Invalid type for '${param}': expected ${expected.join(' or ')}, but got ${got} instead.`,
    { param },
  );
}

/** Throws a 400 for a body that is not an object, has no model, or has a mistyped known field. */
export function checkResponsesBody(body: unknown): void {
  if (kindOf(body) !== 'object') throw new ApiError('validation_failed', 'The request body must be a JSON object.');
  const record = body as Record<string, unknown>;
  if (typeof record.model !== 'string' || record.model === '')
    throw new ApiError('validation_failed', "Missing required parameter: 'model'.", { param: 'model' });
  for (const key in record) {
    const expected = FIELDS[key];
    if (!expected) continue;
    const kind = kindOf(record[key]);
    if (kind === 'null') continue;
    if (!accepts(expected, kind)) throw wrongType(key, expected, kind);
  }
  const check = (items: unknown, param: string) => {
    if (!Array.isArray(items)) return;
    items.forEach((item, i) => {
      if (kindOf(item) !== 'object') throw wrongType(`${param}[${i}]`, ['object'], kindOf(item));
    });
  };
  check(record.input, 'input');
  check(record.tools, 'tools');
}
