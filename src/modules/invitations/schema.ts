import { Type } from '@sinclair/typebox';
import { Email, EpochMs, IdParam } from '../../http/schemas.js';

const TeamRoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('member')]);
const Status = Type.Union([
  Type.Literal('pending'),
  Type.Literal('accepted'),
  Type.Literal('revoked'),
  Type.Literal('expired'),
]);

export const InvitationSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    role: Type.String({ description: 'Role key in the organization' }),
    team: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
    teamRole: Type.Union([TeamRoleSchema, Type.Null()]),
    status: Status,
    invitedBy: Type.Union([
      Type.Object({ id: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }),
      Type.Null(),
    ]),
    createdAt: EpochMs,
    sentAt: EpochMs,
    expiresAt: EpochMs,
    acceptedAt: Type.Union([EpochMs, Type.Null()]),
    revokedAt: Type.Union([EpochMs, Type.Null()]),
    acceptUrl: Type.Optional(
      Type.String({ description: 'The accept link, only when no SMTP server is configured (pass it on yourself)' }),
    ),
  },
  { $id: 'Invitation' },
);

export const InvitationCreateBody = Type.Object(
  {
    email: Email,
    role: Type.String({ minLength: 1, maxLength: 64, description: 'A role key of the organization' }),
    teamId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    teamRole: Type.Optional(TeamRoleSchema),
  },
  { additionalProperties: false },
);

export const InvitationIdParam = IdParam;

export const TokenParam = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });

export const InvitationPreviewSchema = Type.Object({
  organization: Type.Object({ name: Type.String(), slug: Type.String() }),
  email: Type.String(),
  role: Type.String(),
  roleName: Type.String(),
  team: Type.Union([Type.Object({ name: Type.String() }), Type.Null()]),
  teamRole: Type.Union([TeamRoleSchema, Type.Null()]),
  expiresAt: EpochMs,
  accountExists: Type.Boolean({ description: 'An account with this email exists: sign in to accept' }),
});

export const AcceptBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const AcceptedSchema = Type.Object({
  user: Type.Ref('User'),
  organization: Type.Object({ id: Type.String(), name: Type.String(), slug: Type.String() }),
  role: Type.String(),
  team: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
  accessToken: Type.Optional(Type.String({ description: 'A new account is signed in (refresh cookie too)' })),
  expiresIn: Type.Optional(Type.Integer()),
});
