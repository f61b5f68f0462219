import { Type } from '@sinclair/typebox';
import { EpochMs, OrNull, Pagination } from '../../http/schemas.js';
import { LimitPolicySchema, limitFields } from '../limits/schema.js';

const Nullable = <T extends ReturnType<typeof Type.String> | typeof EpochMs>(t: T) => Type.Union([t, Type.Null()]);

export const KeySchema = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    orgId: Type.String(),
    teamId: Nullable(Type.String()),
    teamOwned: Type.Boolean({
      description: 'A service key owned by its team: it keeps working when its creator (userId) leaves or is disabled',
    }),
    name: Type.String(),
    hint: Type.String({ description: 'First and last characters of the secret, to recognise it' }),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('revoked')]),
    expiresAt: Nullable(EpochMs),
    createdAt: EpochMs,
    updatedAt: EpochMs,
    lastUsedAt: Nullable(EpochMs),
    revokedAt: Nullable(EpochMs),
    allowedModels: Type.Union([Type.Array(Type.String()), Type.Null()]),
    allowedIps: Type.Union([Type.Array(Type.String()), Type.Null()]),
    responseCache: Type.Boolean({
      description: "Cache the answers to this key's requests (docs/response-cache.md); false: only on request",
    }),
    limits: LimitPolicySchema,
  },
  { $id: 'ApiKey' },
);

/** Restrictions and limits accepted when creating or changing a key. */
export const keyRestrictionFields = {
  allowedModels: Type.Optional(
    OrNull(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        maxItems: 200,
        description: 'Model names or prefix* wildcards; null = all',
      }),
    ),
  ),
  allowedIps: Type.Optional(
    OrNull(
      Type.Array(Type.String({ minLength: 2, maxLength: 64 }), {
        maxItems: 200,
        description: 'IPs or CIDR ranges (v4/v6); null = anywhere',
      }),
    ),
  ),
  responseCache: Type.Optional(
    Type.Boolean({
      description:
        "Cache the answers to this key's requests (exact match, per organization; docs/response-cache.md); the header x-aihub-cache still turns it off or on per request",
    }),
  ),
  teamId: Type.Optional(
    OrNull(
      Type.String({
        maxLength: 64,
        description: 'The team the key bills to: keys.all, or a team whose keys you manage (keys.team or team admin)',
      }),
    ),
  ),
  ...limitFields,
};

export const CreatedKeySchema = Type.Object({
  key: Type.Ref('ApiKey'),
  secret: Type.String({ description: 'The key itself. Shown once: store it now.' }),
});

export const KeyName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '\\S',
  description: 'A name to recognise the key by',
});
export const KeyStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('revoked')]);

export const OwnKeysQuery = Type.Object({
  status: Type.Optional(KeyStatusSchema),
  scope: Type.Optional(
    Type.Union([Type.Literal('own'), Type.Literal('team'), Type.Literal('all')], {
      description:
        'own: your personal keys; team (default): yours and those of the teams whose keys you manage; all: every key of the organization (keys.read)',
    }),
  ),
  ...Pagination,
});

export const KeyCreateBody = Type.Object(
  {
    name: KeyName,
    expiresAt: Type.Optional(OrNull(EpochMs)),
    userId: Type.Optional(
      Type.String({ maxLength: 64, description: 'keys.all: create the key for this member of the organization' }),
    ),
    teamOwned: Type.Optional(
      Type.Boolean({
        description: 'A service key owned by teamId (keys.team for that team, or keys.all); default false',
      }),
    ),
    ...keyRestrictionFields,
  },
  { additionalProperties: false },
);

export const KeyPatchBody = Type.Object(
  {
    name: Type.Optional(KeyName),
    enabled: Type.Optional(Type.Boolean()),
    expiresAt: Type.Optional(OrNull(EpochMs)),
    ...keyRestrictionFields,
  },
  { additionalProperties: false, minProperties: 1 },
);

export const AdminKeysQuery = Type.Object({
  userId: Type.Optional(Type.String({ maxLength: 64 })),
  teamId: Type.Optional(Type.String({ maxLength: 64 })),
  status: Type.Optional(KeyStatusSchema),
  search: Type.Optional(
    Type.String({
      maxLength: 254,
      description: "Part of a key's name, hint or id, or of its owner's email or name (case-insensitive)",
    }),
  ),
  ...Pagination,
});
