import { Type } from '@sinclair/typebox';
import { EpochMs, OrNull, Pagination } from '../../http/schemas.js';
import { ChannelGroupNames } from '../channels/schema.js';

/** Channel groups whose channels may serve the organization's (or team's) keys; null = every channel. */
export const ChannelGroupLimit = OrNull({
  ...ChannelGroupNames,
  description: 'Channel groups whose channels may serve these keys; null = every channel',
});

const ModelPatterns = Type.Array(Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$' }), {
  maxItems: 500,
  description: 'Model names or `prefix*` wildcards; null = every model',
});
const Multiplier = Type.Number({
  minimum: 0,
  maximum: 1000,
  description: 'Multiplies the price of every request (1.25 = 25 % above list price); null = 1',
});
const Slug = Type.String({
  minLength: 2,
  maxLength: 48,
  pattern: '^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$',
  description: 'Lowercase letters, digits and dashes',
});
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
export const RoleKey = Type.String({
  minLength: 2,
  maxLength: 48,
  pattern: '^[a-z][a-z0-9_]*$',
  description: 'Lowercase letters, digits and underscores',
});

export const OrganizationSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    slug: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    allowedModels: OrNull(Type.Array(Type.String())),
    priceMultiplier: OrNull(Type.Number()),
    pricingGroupId: OrNull(
      Type.String({
        description: "The organization's pricing group; set with PUT /api/admin/organizations/{id}/pricing-group",
      }),
    ),
    channelGroups: OrNull(Type.Array(Type.String())),
    require2fa: Type.Boolean(),
    members: Type.Integer(),
    teams: Type.Integer(),
    createdAt: EpochMs,
    updatedAt: EpochMs,
  },
  { $id: 'Organization' },
);

export const OrganizationListSchema = Type.Object({
  data: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      slug: Type.String(),
      status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
      role: OrNull(Type.String({ description: 'Your role there; null where you are not a member' })),
      members: Type.Integer(),
      createdAt: EpochMs,
    }),
  ),
});

export const OrganizationCreateBody = Type.Object(
  { name: Name, slug: Type.Optional(Slug) },
  { additionalProperties: false },
);

/** What the platform sets for an organization (its plan): only platform admins may change these. */
const PlanFields = {
  allowedModels: Type.Optional(OrNull(ModelPatterns)),
  priceMultiplier: Type.Optional(OrNull(Multiplier)),
  channelGroups: Type.Optional(ChannelGroupLimit),
};
export const PLAN_FIELDS = Object.keys(PlanFields);

export const OrganizationPatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    ...PlanFields,
    require2fa: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const OrganizationAdminPatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    slug: Type.Optional(Slug),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
    ...PlanFields,
  },
  { additionalProperties: false, minProperties: 1 },
);

const TeamRef = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('member')]),
});

export const MemberSchema = Type.Object(
  {
    userId: Type.String(),
    email: Type.String(),
    name: Type.String(),
    role: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    teams: Type.Array(TeamRef),
    joinedAt: EpochMs,
    lastLoginAt: OrNull(EpochMs),
    twoFactor: Type.Boolean({ description: 'Whether the member signs in with two-factor authentication' }),
  },
  { $id: 'Member' },
);

export const MembersQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 254 })),
  role: Type.Optional(Type.String({ maxLength: 48 })),
  ...Pagination,
});

export const MemberAddBody = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }), role: RoleKey },
  { additionalProperties: false },
);

export const MemberPatchBody = Type.Object({ role: RoleKey }, { additionalProperties: false });

export const UserIdParam = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) });

export const RoleSchema = Type.Object(
  {
    key: Type.String(),
    name: Type.String(),
    description: OrNull(Type.String()),
    permissions: Type.Array(Type.String()),
    builtin: Type.Boolean({ description: 'One of the roles every organization starts with' }),
    customized: Type.Boolean({ description: 'A built-in role whose permissions this organization changed' }),
    members: Type.Integer(),
  },
  { $id: 'Role' },
);

const PermissionList = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100, uniqueItems: true });

export const RoleCreateBody = Type.Object(
  {
    key: RoleKey,
    name: Name,
    description: Type.Optional(OrNull(Type.String({ maxLength: 500 }))),
    permissions: PermissionList,
  },
  { additionalProperties: false },
);

export const RolePatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(OrNull(Type.String({ maxLength: 500 }))),
    permissions: Type.Optional(PermissionList),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const RoleKeyParam = Type.Object({ key: Type.String({ minLength: 1, maxLength: 48 }) });

export const PermissionListSchema = Type.Object({
  data: Type.Array(
    Type.Object({
      name: Type.String(),
      description: Type.String(),
      scope: Type.Union([Type.Literal('organization'), Type.Literal('platform')]),
    }),
  ),
});
