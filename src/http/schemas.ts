import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { preValidationHookHandler } from 'fastify';
import { ApiError } from '../core/errors.js';

/** `/api` error body (DESIGN.md §6). */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ examples: ['validation_failed'] }),
      message: Type.String(),
      requestId: Type.String(),
    }),
  },
  { $id: 'ErrorBody' },
);

export const errorResponses = {
  400: Type.Ref('ErrorBody'),
  401: Type.Ref('ErrorBody'),
  403: Type.Ref('ErrorBody'),
  404: Type.Ref('ErrorBody'),
  409: Type.Ref('ErrorBody'),
  429: Type.Ref('ErrorBody'),
};

export const Pagination = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
};

export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 8, maxLength: 256 });
export const EpochMs = Type.Integer({ minimum: 0, description: 'Epoch milliseconds' });

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), total: Type.Integer() });
}

export const bearerSecurity = [{ bearerAuth: [] }];

/**
 * `schema` or null, for request bodies. `null` is matched with `const` (not `type: "null"`), because Ajv's
 * type coercion (on for query strings) would otherwise turn 0, false or "" into null, or null into 0.
 */
export function OrNull<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ anyOf: [{ const: null }, schema] });
}

/**
 * A `preValidation` hook that refuses body fields present with a non-string value. The app's Ajv coerces
 * types (for query strings), so a schema alone turns `"email": 5` into "5" and the request goes on as if
 * the client had sent a string (a sign-in answered 401 instead of 400).
 */
export function requireStrings(...fields: string[]): preValidationHookHandler {
  return (request, _reply, done) => {
    const body = request.body as Record<string, unknown> | null | undefined;
    for (const field of fields) {
      const value = body?.[field];
      if (value !== undefined && typeof value !== 'string') {
        done(new ApiError('validation_failed', `body.${field} must be string`, { param: field }));
        return;
      }
    }
    done();
  };
}
