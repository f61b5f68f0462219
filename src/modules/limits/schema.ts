import { Type } from '@sinclair/typebox';
import { OrNull } from '../../http/schemas.js';

export const PeriodSchema = Type.Union([
  Type.Literal('day'),
  Type.Literal('week'),
  Type.Literal('month'),
  Type.Literal('lifetime'),
]);

/** Limit fields as the API takes them: omitted = unchanged, null = no limit. */
export const limitFields = {
  budgetMicros: Type.Optional(
    OrNull(Type.Integer({ minimum: 0, description: 'Spend allowed per budgetPeriod, micro-USD (1 USD = 1,000,000)' })),
  ),
  budgetPeriod: Type.Optional(PeriodSchema),
  tokenQuota: Type.Optional(
    OrNull(Type.Integer({ minimum: 0, description: 'Tokens (prompt + completion) allowed per tokenQuotaPeriod' })),
  ),
  tokenQuotaPeriod: Type.Optional(PeriodSchema),
  rpm: Type.Optional(OrNull(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'Requests per minute' }))),
  tpm: Type.Optional(OrNull(Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Tokens per minute' }))),
  maxConcurrency: Type.Optional(
    OrNull(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Requests in flight at once' })),
  ),
};

export const LimitPolicyPatch = Type.Object(limitFields, { additionalProperties: false });

export const LimitPolicySchema = Type.Object({
  budgetMicros: Type.Union([Type.Integer(), Type.Null()]),
  budgetPeriod: PeriodSchema,
  tokenQuota: Type.Union([Type.Integer(), Type.Null()]),
  tokenQuotaPeriod: PeriodSchema,
  rpm: Type.Union([Type.Integer(), Type.Null()]),
  tpm: Type.Union([Type.Integer(), Type.Null()]),
  maxConcurrency: Type.Union([Type.Integer(), Type.Null()]),
});

export const ScopeParams = Type.Object({
  scope: Type.Union([Type.Literal('user'), Type.Literal('team'), Type.Literal('org')]),
  id: Type.String({ minLength: 1, maxLength: 64 }),
});

/** The limits of a user, team or organization, with what it used in their current periods. */
export const ScopeLimitsSchema = Type.Object({
  limits: LimitPolicySchema,
  usage: Type.Object({ spend: Type.Integer(), tokens: Type.Integer(), requests: Type.Integer() }),
});

/** Body of a limits PATCH: any limit fields, at least one. */
export const LimitPolicyPatchBody = Type.Object(LimitPolicyPatch.properties, {
  additionalProperties: false,
  minProperties: 1,
});
