import { Type } from '@sinclair/typebox';
import { OrNull } from '../../http/schemas.js';

export const Scope = Type.Union([Type.Literal('v1'), Type.Literal('api')], {
  description: 'v1: the data plane; api: /api, /docs and the console',
});

export const Action = Type.Union([Type.Literal('allow'), Type.Literal('deny')]);

export const RuleSchema = Type.Object({
  id: Type.String(),
  scope: Scope,
  action: Action,
  cidr: Type.String(),
  note: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer(),
  blocked: Type.Integer({ description: 'Requests this rule refused on this instance since it started' }),
});

export const Force = Type.Object({
  force: Type.Optional(Type.Boolean({ description: 'Allow a rule that locks the caller out of /api' })),
});

export const ScopeCounts = Type.Object({ v1: Type.Integer(), api: Type.Integer() });

/** The admin list: every rule, and refusals per scope since this instance started. */
export const RuleListSchema = Type.Object({
  data: Type.Array(RuleSchema),
  blocked: ScopeCounts,
  refusedByAllowList: ScopeCounts,
});

export const RuleCreateBody = Type.Object(
  {
    scope: Scope,
    action: Action,
    cidr: Type.String({ minLength: 2, maxLength: 64 }),
    note: Type.Optional(OrNull(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);

export const RulePatchBody = Type.Object(
  {
    action: Type.Optional(Action),
    cidr: Type.Optional(Type.String({ minLength: 2, maxLength: 64 })),
    note: Type.Optional(OrNull(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
