import { Type } from '@sinclair/typebox';

export const TeamSchema = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  name: Type.String(),
  keys: Type.Integer(),
  createdAt: Type.Integer(),
});

export const TeamListSchema = Type.Object({ data: Type.Array(TeamSchema) });

export const TeamCreateBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) },
  { additionalProperties: false },
);
