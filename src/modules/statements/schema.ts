import { Type } from '@sinclair/typebox';

const Micros = (description: string) => Type.Integer({ description: `${description} (micro-units of the currency)` });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const StatementKindSchema = Type.Union(
  [Type.Literal('statement'), Type.Literal('corrected'), Type.Literal('credit_note')],
  { description: 'statement: the monthly one; corrected: a recomputed statement; credit_note: a credit against one' },
);

export const StatementSchema = Type.Object({
  id: Type.String(),
  number: Type.String({ description: 'AIH-<year>-<sequence>: sequential per instance' }),
  orgId: Type.String(),
  teamId: Nullable(Type.String({ description: "Set on a team's (chargeback) statement" })),
  kind: StatementKindSchema,
  period: Type.String({ description: 'YYYY-MM (UTC)' }),
  periodStart: Type.Integer(),
  periodEnd: Type.Integer({ description: 'Exclusive' }),
  currency: Type.String(),
  totalMicros: Micros('What the document bills, taxes excluded (negative for a credit note)'),
  correctsId: Nullable(Type.String({ description: 'The document a correction or credit note refers to' })),
  reason: Nullable(Type.String()),
  issuedAt: Type.Integer(),
});

const UsageLineSchema = Type.Object({
  model: Type.String(),
  teamId: Nullable(Type.String()),
  teamName: Nullable(Type.String()),
  keyId: Nullable(Type.String()),
  keyName: Nullable(Type.String()),
  requests: Type.Integer(),
  inputTokens: Type.Integer(),
  outputTokens: Type.Integer(),
  amountMicros: Micros('List price'),
});

export const StatementDetailSchema = Type.Composite([
  StatementSchema,
  Type.Object({
    correctsNumber: Nullable(Type.String()),
    content: Type.Object({
      operator: Type.Object({ name: Type.String(), address: Type.String() }),
      customer: Type.Object({
        orgId: Type.String(),
        name: Type.String(),
        teamId: Nullable(Type.String()),
        teamName: Nullable(Type.String()),
      }),
      currency: Type.String(),
      usage: Type.Array(UsageLineSchema),
      usageTotalMicros: Type.Integer(),
      ledger: Type.Union([
        Type.Object({
          openingBalanceMicros: Type.Integer(),
          closingBalanceMicros: Type.Integer(),
          topUpsMicros: Type.Integer(),
          creditsMicros: Type.Integer(),
          debitsMicros: Type.Integer(),
          usageChargedMicros: Type.Integer(),
        }),
        Type.Null(),
      ]),
      creditMicros: Type.Optional(Type.Integer()),
    }),
  }),
]);

export const StatementList = Type.Object({ data: Type.Array(StatementSchema) });

export const StatementQuery = Type.Object({
  period: Type.Optional(Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});

export const AdminStatementQuery = Type.Composite([
  StatementQuery,
  Type.Object({ orgId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
]);

export const RunBody = Type.Object(
  {
    period: Type.Optional(
      Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM; default the previous month' }),
    ),
    orgId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Only this organization (issued even without usage)' }),
    ),
  },
  { additionalProperties: false },
);

export const CreditNoteBody = Type.Object(
  {
    amountMicros: Type.Integer({ minimum: 1, description: "What to credit (at most the original's total)" }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

export const ReissueBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);

export const RevenueQuery = Type.Object({
  from: Type.Integer({ minimum: 0, description: 'Epoch ms (inclusive)' }),
  to: Type.Integer({ minimum: 0, description: 'Epoch ms (exclusive)' }),
  interval: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('month')], { default: 'day' })),
  orgId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'One organization only' })),
});

const RevenueBucket = Type.Object({
  at: Type.Integer({ description: 'Start of the day or month (UTC, epoch ms)' }),
  requests: Type.Integer(),
  priceMicros: Micros('List price: what customers pay'),
  costMicros: Micros('Cost price: what upstream costs'),
  marginMicros: Micros('List price − cost'),
});

export const RevenueSchema = Type.Object({
  currency: Type.String(),
  interval: Type.Union([Type.Literal('day'), Type.Literal('month')]),
  data: Type.Array(RevenueBucket, { description: 'Buckets with requests only, oldest first' }),
  totals: Type.Object({
    requests: Type.Integer(),
    priceMicros: Type.Integer(),
    costMicros: Type.Integer(),
    marginMicros: Type.Integer(),
  }),
});
