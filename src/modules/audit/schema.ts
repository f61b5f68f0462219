import { Type } from '@sinclair/typebox';
import { EpochMs } from '../../http/schemas.js';

export const AuditRecordSchema = Type.Object({
  id: Type.String(),
  at: EpochMs,
  actorType: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  actorName: Type.Union([Type.String(), Type.Null()], { description: "The acting user's email, when known" }),
  targetName: Type.Union([Type.String(), Type.Null()], {
    description: 'Name of the target (email for users, CIDR for IP rules), when it still exists',
  }),
});

export const AuditQuery = Type.Object({
  action: Type.Optional(
    Type.String({ maxLength: 100, description: 'Exact action, or a prefix ending in * (e.g. key.*)' }),
  ),
  actorId: Type.Optional(Type.String({ maxLength: 64 })),
  targetId: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(EpochMs),
  to: Type.Optional(EpochMs),
  before: Type.Optional(
    Type.String({ maxLength: 64, description: 'Cursor: the id of the last row of the previous page' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

export const AuditPage = Type.Object({
  data: Type.Array(AuditRecordSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
