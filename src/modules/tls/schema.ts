import { type Static, Type } from '@sinclair/typebox';

const Nullable = <T extends ReturnType<typeof Type.Number>>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

/** GET /api/admin/tls: where the hub's certificate comes from and how it stands. */
export const CertificateStatusSchema = Type.Object({
  source: Type.Union([Type.Literal('acme'), Type.Literal('files'), Type.Literal('none')], {
    description: 'acme: obtained and renewed by the hub; files: AIHUB_TLS_CERT/KEY; none: plain HTTP',
  }),
  domains: Type.Array(Type.String(), { description: 'Names the certificate covers (ACME: the configured names)' }),
  directoryUrl: NullableString,
  issuer: Type.Union([Type.String(), Type.Null()], { description: "Common name of the certificate's issuer" }),
  notBefore: Nullable(Type.Number({ description: 'Epoch ms' })),
  notAfter: Nullable(Type.Number({ description: 'Epoch ms: when the certificate expires' })),
  renewedAt: Nullable(Type.Number({ description: 'Epoch ms of the last successful ACME order' })),
  renewAfter: Nullable(Type.Number({ description: 'Epoch ms from which the hub renews (notAfter − renew days)' })),
  lastAttemptAt: Nullable(Type.Number({ description: 'Epoch ms of the last ACME order, successful or not' })),
  lastError: Type.Union([Type.String(), Type.Null()], {
    description: 'Why the last order failed (null after a success)',
  }),
  failures: Type.Integer({ description: 'Failed orders since the last success' }),
  renewing: Type.Boolean({ description: 'An instance is ordering a certificate now' }),
});

export type CertificateStatus = Static<typeof CertificateStatusSchema>;
