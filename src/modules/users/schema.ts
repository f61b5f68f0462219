import { Type } from '@sinclair/typebox';
import { Email, EpochMs, Pagination, Password } from '../../http/schemas.js';

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    orgId: Type.String(),
    createdAt: EpochMs,
    updatedAt: EpochMs,
    lastLoginAt: Type.Union([EpochMs, Type.Null()]),
    emailVerifiedAt: Type.Union([EpochMs, Type.Null()], {
      description: 'When the user confirmed their email address; null = not yet (self-registered accounts)',
    }),
  },
  { $id: 'User' },
);

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('user')]);
export const UserStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);

export const UsersQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 254 })),
  role: Type.Optional(Role),
  status: Type.Optional(UserStatusSchema),
  sort: Type.Optional(
    Type.Union([Type.Literal('createdAt'), Type.Literal('email'), Type.Literal('name'), Type.Literal('lastLoginAt')], {
      description: 'Order by this field (default createdAt)',
    }),
  ),
  order: Type.Optional(
    Type.Union([Type.Literal('asc'), Type.Literal('desc')], {
      description: 'Default: desc for createdAt, asc for the others',
    }),
  ),
  ...Pagination,
});

export const UserCreateBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
    role: Type.Optional(Role),
    orgRole: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "The role in the current organization, which becomes the account's home (default developer)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const UserPatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
    role: Type.Optional(Role),
    status: Type.Optional(UserStatusSchema),
    password: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);
