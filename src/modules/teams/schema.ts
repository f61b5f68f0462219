import { Type } from '@sinclair/typebox';
import { EpochMs, OrNull } from '../../http/schemas.js';
import { ChannelGroupLimit } from '../organizations/schema.js';

const ModelPatterns = Type.Array(Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$' }), {
  maxItems: 500,
  description: "Model names or `prefix*` wildcards the team's keys may use (within the organization's); null = all",
});
const Multiplier = Type.Number({
  minimum: 0,
  maximum: 1000,
  description:
    "Price multiplier for the team's usage, instead of the organization's; null = the organization's. Set by platform admins only",
});
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const TeamRoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('member')]);

export const TeamSchema = Type.Object(
  {
    id: Type.String(),
    orgId: Type.String(),
    name: Type.String(),
    description: OrNull(Type.String()),
    allowedModels: OrNull(Type.Array(Type.String())),
    priceMultiplier: OrNull(Type.Number()),
    pricingGroupId: OrNull(
      Type.String({
        description:
          "The team's pricing group (null: its organization's); set by platform admins with PUT /api/admin/organizations/{id}/teams/{teamId}/pricing-group",
      }),
    ),
    channelGroups: OrNull(Type.Array(Type.String())),
    keys: Type.Integer({ description: 'Keys (not revoked) of the team' }),
    members: Type.Integer(),
    createdAt: EpochMs,
  },
  { $id: 'Team' },
);

export const TeamListSchema = Type.Object({ data: Type.Array(Type.Ref('Team')) });

export const TeamCreateBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(OrNull(Type.String({ maxLength: 500 }))),
    allowedModels: Type.Optional(OrNull(ModelPatterns)),
    priceMultiplier: Type.Optional(OrNull(Multiplier)),
    channelGroups: Type.Optional(ChannelGroupLimit),
  },
  { additionalProperties: false },
);

export const TeamPatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(OrNull(Type.String({ maxLength: 500 }))),
    allowedModels: Type.Optional(OrNull(ModelPatterns)),
    priceMultiplier: Type.Optional(OrNull(Multiplier)),
    channelGroups: Type.Optional(ChannelGroupLimit),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const TeamMemberSchema = Type.Object({
  userId: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: TeamRoleSchema,
  joinedAt: EpochMs,
});

export const TeamMemberListSchema = Type.Object({ data: Type.Array(TeamMemberSchema) });

export const TeamMemberAddBody = Type.Object(
  { userId: Type.String({ minLength: 1, maxLength: 64 }), role: Type.Optional(TeamRoleSchema) },
  { additionalProperties: false },
);

export const TeamMemberPatchBody = Type.Object({ role: TeamRoleSchema }, { additionalProperties: false });

export const TeamMemberParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  userId: Type.String({ minLength: 1, maxLength: 64 }),
});
