import { Type } from '@sinclair/typebox';
import { OrNull } from '../../http/schemas.js';

const Micros = (description: string) => Type.Integer({ description: `${description} (micro-units of the currency)` });

export const BillingModeSchema = Type.Union([Type.Literal('postpaid'), Type.Literal('prepaid')], {
  description: 'postpaid: budgets only, billed later; prepaid: each request is paid from the balance first',
});

export const WalletSchema = Type.Object({
  orgId: Type.String(),
  balanceMicros: Micros('The sum of the ledger'),
  billingMode: BillingModeSchema,
  lowBalanceThresholds: Type.Array(Type.Integer(), { description: 'Balances that trigger a low-balance notice' }),
  lowBalanceWebhookUrl: Type.Union([Type.String(), Type.Null()], {
    description: 'Where low-balance notices are POSTed, besides mail to owners and billing managers',
  }),
  currency: Type.String({ description: "The instance's currency (setting `currency`)" }),
});

export const WalletListSchema = Type.Object({
  data: Type.Array(Type.Composite([WalletSchema, Type.Object({ name: Type.String(), slug: Type.String() })])),
});

export const TransactionKindSchema = Type.Union(
  ['top_up', 'redemption', 'subscription_grant', 'usage', 'refund', 'adjustment', 'expiry'].map((k) => Type.Literal(k)),
);

export const TransactionSchema = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  walletId: Type.Union([Type.String(), Type.Null()], {
    description: "A team or user wallet's entry (its id); null: the organization's wallet",
  }),
  kind: TransactionKindSchema,
  amountMicros: Micros('Positive credits, negative debits'),
  balanceAfterMicros: Micros('The balance after this entry'),
  reference: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  createdAt: Type.Integer(),
});

export const TransactionListSchema = Type.Object({
  data: Type.Array(TransactionSchema),
  /** Pass as `before` for the next (older) page; null at the end. */
  next: Type.Union([Type.String(), Type.Null()]),
});

export const TransactionQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before: Type.Optional(Type.String({ maxLength: 64, description: 'A transaction id: entries older than it' })),
});

export const RedeemBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

export const AdjustmentBody = Type.Object(
  {
    amountMicros: Type.Integer({ description: 'Positive to credit, negative to debit (never zero)' }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

export const MemberAdjustmentBody = Type.Object(
  {
    ownerType: Type.Union([Type.Literal('team'), Type.Literal('user')]),
    ownerId: Type.String({ minLength: 1, maxLength: 64, description: "The team's id, or the member's user id" }),
    amountMicros: Type.Integer({ description: 'Positive to credit, negative to debit (never zero)' }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

export const MemberWalletSchema = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  ownerType: Type.Union([Type.Literal('team'), Type.Literal('user')]),
  ownerId: Type.String(),
  ownerLabel: Type.Union([Type.String(), Type.Null()], { description: "The team's name or the user's email" }),
  balanceMicros: Micros('The sum of its ledger'),
  currency: Type.String(),
  createdAt: Type.Integer(),
});

export const MemberWalletListSchema = Type.Object({
  mode: Type.Union([Type.Literal('off'), Type.Literal('team'), Type.Literal('user'), Type.Literal('team_and_user')], {
    description: 'The setting billingMemberWallets: which of these wallets prepaid requests are charged to',
  }),
  data: Type.Array(MemberWalletSchema),
});

export const WalletPatchBody = Type.Object(
  {
    billingMode: Type.Optional(BillingModeSchema),
    lowBalanceThresholds: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 10 })),
    lowBalanceWebhookUrl: Type.Optional(
      OrNull(Type.String({ pattern: '^https?://', maxLength: 2000, description: 'An http(s) URL, or null for none' })),
    ),
  },
  { additionalProperties: false },
);

export const BatchSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  amountMicros: Type.Integer(),
  count: Type.Integer(),
  maxUses: Type.Integer(),
  expiresAt: Type.Union([Type.Integer(), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  redeemed: Type.Integer({ description: 'Redemptions so far, over every code' }),
  createdAt: Type.Integer(),
});

export const BatchCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{0,12}$', description: 'Letters and digits, up to 12' })),
    amountMicros: Type.Integer({ description: 'What each redemption credits (micro-units)' }),
    count: Type.Integer({ description: 'How many codes (1 to 10,000)' }),
    maxUses: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Organizations each code may credit' }),
    ),
    expiresAt: Type.Optional(OrNull(Type.Integer({ minimum: 0, description: 'Epoch ms; null = never' }))),
  },
  { additionalProperties: false },
);

export const BatchCreatedSchema = Type.Object({
  batch: BatchSchema,
  codes: Type.Array(Type.String(), { description: 'Shown here and in the CSV export' }),
});

export const BatchPatchBody = Type.Object(
  { status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]) },
  { additionalProperties: false },
);

const GroupMultiplier = Type.Number({
  minimum: 0,
  maximum: 1000,
  description: 'Multiplies the cost (1.25 = 25 % above cost)',
});
const PricePer1M = (what: string) =>
  Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description: `${what} (micro-units per 1M tokens)` });

export const OverrideSchema = Type.Union([
  Type.Object(
    { model: Type.String({ minLength: 1, maxLength: 200 }), multiplier: GroupMultiplier },
    { additionalProperties: false, description: "This model's cost × its own multiplier" },
  ),
  Type.Object(
    {
      model: Type.String({ minLength: 1, maxLength: 200 }),
      inputPrice: PricePer1M('List price of input tokens'),
      outputPrice: PricePer1M('List price of output tokens'),
      cachedInputPrice: Type.Optional(OrNull(PricePer1M('List price of cached input tokens; null = the input price'))),
    },
    { additionalProperties: false, description: 'A fixed list price for this model, whatever it costs' },
  ),
]);

export const PricingGroupSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  multiplier: Type.Number(),
  overrides: Type.Array(OverrideSchema),
  organizations: Type.Integer({ description: 'Organizations following the group' }),
  teams: Type.Integer({ description: 'Teams following the group' }),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

export const PricingGroupCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    multiplier: Type.Optional(GroupMultiplier),
    overrides: Type.Optional(Type.Array(OverrideSchema, { maxItems: 500 })),
  },
  { additionalProperties: false },
);

export const PricingGroupPatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    multiplier: Type.Optional(GroupMultiplier),
    overrides: Type.Optional(Type.Array(OverrideSchema, { maxItems: 500 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const GroupAssignmentBody = Type.Object(
  { groupId: OrNull(Type.String({ minLength: 1, maxLength: 64, description: 'A pricing group id; null = none' })) },
  { additionalProperties: false },
);
