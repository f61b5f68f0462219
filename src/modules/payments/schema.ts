import { Type } from '@sinclair/typebox';
import { EpochMs, OrNull } from '../../http/schemas.js';

const Micros = (description: string) => Type.Integer({ description });
const Names = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 500 });

export const PaymentsStatusSchema = Type.Object({
  configured: Type.Boolean({ description: 'Whether Stripe payments are set up (else: codes and manual top-ups only)' }),
  currency: Type.String({ description: 'The instance currency every amount is in' }),
  topUpMinMicros: Micros('Smallest top-up, micro-units'),
  topUpMaxMicros: Micros('Largest top-up, micro-units'),
});

export const TopUpBody = Type.Object(
  { amountMicros: Type.Integer({ description: 'Amount to add to the balance, micro-units of the instance currency' }) },
  { additionalProperties: false },
);

export const SubscribeBody = Type.Object(
  { planId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const CheckoutSchema = Type.Object({
  url: Type.String({ description: "Stripe Checkout's page: send the customer there" }),
  sessionId: Type.String(),
});

export const CheckoutSessionParam = Type.Object({
  sessionId: Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_]+$' }),
});

export const CheckoutStatusSchema = Type.Object({
  sessionId: Type.String(),
  status: Type.Union(
    [Type.Literal('open'), Type.Literal('processing'), Type.Literal('credited'), Type.Literal('expired')],
    {
      description:
        "open: not paid; processing: paid, Stripe's webhook not received yet; credited: on the balance; expired",
    },
  ),
  amountMicros: Type.Union([Type.Integer(), Type.Null()], { description: 'The credit, once credited' }),
  transactionId: Type.Union([Type.String(), Type.Null()], { description: 'The ledger entry, once credited' }),
});

export const PortalSchema = Type.Object({ url: Type.String({ description: "Stripe's Customer Portal page" }) });

const interval = Type.Union([Type.Literal('month'), Type.Literal('year')]);

export const PlanSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: OrNull(Type.String()),
  interval,
  priceMicros: Micros('Price per interval, micro-units'),
  currency: Type.String(),
  stripePriceId: Type.String(),
  includedCreditsMicros: Micros('Credited to the balance on every paid invoice'),
  tokenQuota: OrNull(Type.Integer({ description: 'Tokens per month while subscribed' })),
  allowedModels: OrNull(Type.Array(Type.String())),
  channelGroups: OrNull(Type.Array(Type.String())),
  status: Type.Union([Type.Literal('active'), Type.Literal('archived')]),
  createdAt: EpochMs,
});

export const PlanListSchema = Type.Object({ data: Type.Array(PlanSchema) });

export const PlanCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(OrNull(Type.String({ maxLength: 1000 }))),
    interval,
    priceMicros: Type.Integer({ minimum: 1, description: 'Price per interval, micro-units of the instance currency' }),
    stripePriceId: Type.Optional(
      Type.String({
        pattern: '^price_[A-Za-z0-9]+$',
        description: 'An existing Stripe price to use (else a product and price are created in Stripe)',
      }),
    ),
    includedCreditsMicros: Type.Optional(Type.Integer({ minimum: 0 })),
    tokenQuota: Type.Optional(OrNull(Type.Integer({ minimum: 1 }))),
    allowedModels: Type.Optional(OrNull(Names)),
    channelGroups: Type.Optional(OrNull(Names)),
  },
  { additionalProperties: false },
);

export const PlanPatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(OrNull(Type.String({ maxLength: 1000 }))),
    includedCreditsMicros: Type.Optional(Type.Integer({ minimum: 0 })),
    tokenQuota: Type.Optional(OrNull(Type.Integer({ minimum: 1 }))),
    allowedModels: Type.Optional(OrNull(Names)),
    channelGroups: Type.Optional(OrNull(Names)),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('archived')])),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const SubscriptionSchema = Type.Object({
  subscription: OrNull(
    Type.Object({
      plan: OrNull(PlanSchema),
      status: Type.String({ description: "Stripe's status (active, past_due, ...) or downgraded (grace ended)" }),
      currentPeriodEnd: OrNull(EpochMs),
      cancelAtPeriodEnd: Type.Boolean(),
      graceUntil: OrNull(EpochMs),
    }),
  ),
});

export const StripeInvoiceSchema = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  subscriptionId: OrNull(Type.String()),
  number: OrNull(Type.String()),
  status: Type.String(),
  amountMicros: Type.Integer(),
  currency: Type.String(),
  hostedInvoiceUrl: OrNull(Type.String()),
  periodStart: OrNull(EpochMs),
  periodEnd: OrNull(EpochMs),
  createdAt: EpochMs,
});

export const StripeInvoiceListSchema = Type.Object({ data: Type.Array(StripeInvoiceSchema) });

export const InvoiceQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) });

export const PaymentsConfigSchema = Type.Object({
  configured: Type.Boolean(),
  secretKeySet: Type.Boolean(),
  webhookSecretSet: Type.Boolean(),
  secretKeySource: OrNull(Type.Union([Type.Literal('env'), Type.Literal('console')])),
  webhookSecretSource: OrNull(Type.Union([Type.Literal('env'), Type.Literal('console')])),
  topUpMinMicros: Type.Integer(),
  topUpMaxMicros: Type.Integer(),
  graceDays: Type.Integer(),
});

export const PaymentsConfigPatchBody = Type.Object(
  {
    secretKey: Type.Optional(OrNull(Type.String({ minLength: 1, maxLength: 500 }))),
    webhookSecret: Type.Optional(OrNull(Type.String({ minLength: 1, maxLength: 500 }))),
    topUpMinMicros: Type.Optional(Type.Integer({ minimum: 1 })),
    topUpMaxMicros: Type.Optional(Type.Integer({ minimum: 1 })),
    graceDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 90 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const WebhookAnswerSchema = Type.Object({
  received: Type.Boolean(),
  eventId: Type.String(),
  outcome: Type.String({ description: 'What was done: credited, granted, duplicate, ignored, unknown_customer, ...' }),
});
