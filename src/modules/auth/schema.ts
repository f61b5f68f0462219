import { Type } from '@sinclair/typebox';
import { Email, Password } from '../../http/schemas.js';

export const SessionSchema = Type.Object({
  user: Type.Ref('User'),
  accessToken: Type.String({ description: 'Bearer token for /api; short-lived' }),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});

export const RegisterBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
  },
  { additionalProperties: false },
);

export const LoginBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
});

/** The signed-in user, or the master key. */
export const MeSchema = Type.Union([
  Type.Ref('User'),
  Type.Object({ kind: Type.Literal('master_key'), role: Type.Literal('admin') }),
]);

export const ProfilePatchBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) },
  { additionalProperties: false },
);

export const PasswordChangeBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Password },
  { additionalProperties: false },
);
