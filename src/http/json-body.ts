import type { FastifyInstance } from 'fastify';
import { ApiError } from '../core/errors.js';

/**
 * Deepest nesting of objects and arrays a request body may have (every route, /v1 and /api). Real
 * requests stay far below it (a chat request with a nested tool schema is ~20 levels); without a bound a
 * small body nested thousands of levels deep overflows the stack of any recursive code that meets it
 * (JSON.stringify of the upstream request did), and that used to be blamed on the channel.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * True when `value` (parsed JSON) nests objects/arrays more than `levels` deep. Checked after JSON.parse
 * (V8's parser is not recursive and takes any depth): the walk visits only objects and arrays and stops
 * `levels` deep, so it uses at most that much stack and costs well under 1 µs for a chat request (a
 * character scan of the raw body cost 10-100× more on string-heavy bodies).
 */
export function jsonTooDeep(value: unknown, levels = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return nestsDeeper(value, levels);
}

function nestsDeeper(value: object, levelsLeft: number): boolean {
  if (levelsLeft === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && nestsDeeper(item, levelsLeft - 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && nestsDeeper(item, levelsLeft - 1)) return true;
  }
  return false;
}

/**
 * Fastify's own JSON parser (prototype-poisoning checks included) behind the depth bound. A body too
 * deep is a 400 `invalid_json` the error handler renders in the route's protocol; nothing else runs.
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (error, value) => {
      if (error === null && jsonTooDeep(value)) {
        done(
          new ApiError('invalid_json', `Request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`),
          undefined,
        );
        return;
      }
      done(error, value);
    });
  });
}
