import { Type } from '@sinclair/typebox';
import { EpochMs, OrNull } from '../../http/schemas.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const RoleKey = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_-]+$' });
const TeamRoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('member')]);

export const MappingRuleSchema = Type.Object(
  {
    claim: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Claim name, or a dotted path into the claims (e.g. `groups`, `realm_access.roles`)',
    }),
    value: Type.String({
      minLength: 1,
      maxLength: 300,
      description: 'The value the claim must hold (or one element of an array claim); `*` = any value',
    }),
    organization: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Organization id (instance-wide connections only)' }),
    ),
    role: Type.Optional(RoleKey),
    team: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Team id' })),
    teamRole: Type.Optional(TeamRoleSchema),
  },
  { additionalProperties: false },
);

const Domain = Type.String({ minLength: 3, maxLength: 253, pattern: '^[A-Za-z0-9.-]+\\.[A-Za-z0-9-]+$' });

const ConnectionFields = {
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Shown on the sign-in button' }),
  issuer: Type.String({
    minLength: 8,
    maxLength: 500,
    description: "The IdP's issuer URL (https; discovery at /.well-known/openid-configuration)",
  }),
  clientId: Type.String({ minLength: 1, maxLength: 300 }),
  clientSecret: Type.Optional(
    OrNull(Type.String({ minLength: 1, maxLength: 2000, description: 'Stored sealed; never returned' })),
  ),
  scopes: Type.Optional(
    Type.String({ minLength: 6, maxLength: 500, pattern: '(^|\\s)openid(\\s|$)', description: 'Must include openid' }),
  ),
  emailDomains: Type.Optional(Type.Array(Domain, { maxItems: 100 })),
  mappings: Type.Optional(Type.Array(MappingRuleSchema, { maxItems: 200 })),
  defaultRole: Type.Optional(RoleKey),
  jit: Type.Optional(Type.Boolean({ description: 'Create an account at the first sign-in of an unknown person' })),
  ssoOnly: Type.Optional(
    Type.Boolean({ description: 'Members may not sign in with a password (platform admins excepted)' }),
  ),
  enabled: Type.Optional(Type.Boolean()),
};

export const SsoConnectionCreateBody = Type.Object(ConnectionFields, { additionalProperties: false });

export const SsoConnectionPatchBody = Type.Object(
  {
    ...ConnectionFields,
    name: Type.Optional(ConnectionFields.name),
    issuer: Type.Optional(ConnectionFields.issuer),
    clientId: Type.Optional(ConnectionFields.clientId),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const SsoConnectionSchema = Type.Object(
  {
    id: Type.String(),
    orgId: OrNull(Type.String()),
    name: Type.String(),
    issuer: Type.String(),
    clientId: Type.String(),
    clientSecretSet: Type.Boolean(),
    scopes: Type.String(),
    emailDomains: Type.Array(Type.String()),
    mappings: Type.Array(MappingRuleSchema),
    defaultRole: Type.String(),
    jit: Type.Boolean(),
    ssoOnly: Type.Boolean(),
    enabled: Type.Boolean(),
    redirectUri: Type.String({ description: 'Register this redirect URI at the IdP' }),
    createdAt: EpochMs,
    updatedAt: EpochMs,
  },
  { $id: 'SsoConnection' },
);

export const SsoConnectionListSchema = Type.Object({
  data: Type.Array(Type.Ref('SsoConnection')),
  redirectUri: Type.String({ description: 'Register this redirect URI at the IdP' }),
});

export const SsoProvidersQuery = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 254 })),
  org: Type.Optional(Type.String({ maxLength: 64, description: 'Organization slug or id' })),
});

export const SsoProvidersSchema = Type.Object({
  data: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
});

export const SsoStartQuery = Type.Object({
  returnTo: Type.Optional(Type.String({ maxLength: 500, description: 'A relative console path to land on' })),
});

export const SsoCallbackQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ maxLength: 500 })),
    code: Type.Optional(Type.String({ maxLength: 4000 })),
    error: Type.Optional(Type.String({ maxLength: 200 })),
    error_description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: true },
);

export const SsoTestStartSchema = Type.Object({
  url: Type.String({ description: "Open it in the browser: the IdP's sign-in page, in test mode" }),
  testId: Type.String(),
});

const PlannedMembershipSchema = Type.Object({
  orgId: Type.String(),
  orgName: OrNull(Type.String()),
  role: Type.String(),
  roleFromRule: Type.Boolean(),
  teams: Type.Array(Type.Object({ teamId: Type.String(), teamName: OrNull(Type.String()), role: TeamRoleSchema })),
});

export const SsoTestResultSchema = Type.Object({
  status: Type.Union([Type.Literal('pending'), Type.Literal('ok'), Type.Literal('failed')]),
  error: OrNull(Type.Object({ code: Type.String(), message: Type.String() })),
  subject: OrNull(Type.String()),
  email: OrNull(Type.String()),
  claims: OrNull(Type.Record(Type.String(), Type.Unknown())),
  account: OrNull(
    Type.Union([Type.Literal('linked'), Type.Literal('email_match'), Type.Literal('new'), Type.Literal('refused')], {
      description:
        'What a real sign-in would do: use the linked account, link the account with this email, create one, or refuse',
    }),
  ),
  accountNote: OrNull(Type.String()),
  matchedRules: Type.Array(Type.Integer()),
  memberships: Type.Array(PlannedMembershipSchema),
});

export const SsoTestParams = Type.Object({ id: Id, testId: Id });
