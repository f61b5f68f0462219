import { Type } from '@sinclair/typebox';
import { EpochMs } from '../../http/schemas.js';

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
  },
  { $id: 'User' },
);

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('user')]);
export const UserStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);
