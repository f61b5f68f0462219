import { Type } from '@sinclair/typebox';
import { EpochMs } from '../../http/schemas.js';

const Nullable = <T extends ReturnType<typeof Type.String> | typeof EpochMs>(t: T) => Type.Union([t, Type.Null()]);

export const KeySchema = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    orgId: Type.String(),
    teamId: Nullable(Type.String()),
    name: Type.String(),
    hint: Type.String({ description: 'First and last characters of the secret, to recognise it' }),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('revoked')]),
    expiresAt: Nullable(EpochMs),
    createdAt: EpochMs,
    updatedAt: EpochMs,
    lastUsedAt: Nullable(EpochMs),
    revokedAt: Nullable(EpochMs),
  },
  { $id: 'ApiKey' },
);

export const CreatedKeySchema = Type.Object({
  key: Type.Ref('ApiKey'),
  secret: Type.String({ description: 'The key itself. Shown once: store it now.' }),
});

export const KeyName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'A name to recognise the key by' });
export const KeyStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('revoked')]);
