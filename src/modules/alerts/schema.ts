import { Type } from '@sinclair/typebox';
import { EpochMs, OrNull, Page } from '../../http/schemas.js';
import { RULE_KINDS } from './rules.js';

export const RuleKind = Type.Union(
  RULE_KINDS.map((k) => Type.Literal(k)),
  { description: 'What the rule watches (docs/alerts.md)' },
);

export const AlertRuleSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: RuleKind,
  threshold: Type.Number(),
  windowMinutes: Type.Integer(),
  minSamples: Type.Integer(),
  organizationId: Type.Union([Type.String(), Type.Null()]),
  channelId: Type.Union([Type.String(), Type.Null()]),
  destinationIds: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  firing: Type.Integer({ description: 'Subjects this rule is firing for now' }),
  createdAt: EpochMs,
  updatedAt: EpochMs,
});

const ruleFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  threshold: Type.Number({ minimum: 0, maximum: 1e15 }),
  windowMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  minSamples: Type.Integer({ minimum: 0, maximum: 1e12 }),
  organizationId: OrNull(Type.String({ minLength: 1, maxLength: 64 })),
  channelId: OrNull(Type.String({ minLength: 1, maxLength: 64 })),
  destinationIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20, uniqueItems: true }),
  enabled: Type.Boolean(),
};

export const AlertRuleCreateBody = Type.Object(
  {
    name: ruleFields.name,
    kind: RuleKind,
    threshold: Type.Optional(ruleFields.threshold),
    windowMinutes: Type.Optional(ruleFields.windowMinutes),
    minSamples: Type.Optional(ruleFields.minSamples),
    organizationId: Type.Optional(ruleFields.organizationId),
    channelId: Type.Optional(ruleFields.channelId),
    destinationIds: Type.Optional(ruleFields.destinationIds),
    enabled: Type.Optional(ruleFields.enabled),
  },
  { additionalProperties: false },
);

export const AlertRulePatchBody = Type.Object(
  {
    name: Type.Optional(ruleFields.name),
    threshold: Type.Optional(ruleFields.threshold),
    windowMinutes: Type.Optional(ruleFields.windowMinutes),
    minSamples: Type.Optional(ruleFields.minSamples),
    organizationId: Type.Optional(ruleFields.organizationId),
    channelId: Type.Optional(ruleFields.channelId),
    destinationIds: Type.Optional(ruleFields.destinationIds),
    enabled: Type.Optional(ruleFields.enabled),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const DestinationKind = Type.Union([Type.Literal('webhook'), Type.Literal('slack'), Type.Literal('email')]);

export const AlertDestinationSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: DestinationKind,
  target: Type.String({
    description: 'The webhook URL, the email addresses, or (Slack) only the host: the Slack URL is a secret',
  }),
  hasSecret: Type.Boolean({ description: 'A webhook signs its deliveries (the secret is never shown again)' }),
  enabled: Type.Boolean(),
  createdAt: EpochMs,
  updatedAt: EpochMs,
});

export const AlertDestinationCreated = Type.Composite([
  AlertDestinationSchema,
  Type.Object({
    secret: Type.Optional(
      Type.String({ description: 'A webhook’s signing secret, shown once (generated when none was given)' }),
    ),
  }),
]);

const Url = Type.String({ minLength: 8, maxLength: 2000 });
const Emails = Type.Array(Type.String({ format: 'email', maxLength: 254 }), { minItems: 1, maxItems: 20 });
const Secret = Type.String({ minLength: 16, maxLength: 256 });

export const AlertDestinationCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    kind: DestinationKind,
    url: Type.Optional(Url),
    emails: Type.Optional(Emails),
    secret: Type.Optional(Secret),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const AlertDestinationPatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    url: Type.Optional(Url),
    emails: Type.Optional(Emails),
    secret: Type.Optional(Secret),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const AlertEventSchema = Type.Object({
  id: Type.String(),
  ruleId: Type.String(),
  ruleName: Type.String(),
  kind: Type.String(),
  subject: Type.String(),
  subjectName: Type.Union([Type.String(), Type.Null()]),
  state: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  value: Type.Union([Type.Number(), Type.Null()]),
  threshold: Type.Number(),
  message: Type.String(),
  organizationId: Type.Union([Type.String(), Type.Null()]),
  at: EpochMs,
});

export const AlertEventPage = Page(AlertEventSchema);

export const AlertEventQuery = Type.Object({
  ruleId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  state: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});

export const TestResult = Type.Object({
  delivered: Type.Boolean(),
  error: Type.Union([Type.String(), Type.Null()]),
});
