import { Type } from '@sinclair/typebox';
import { Email, Password } from '../../http/schemas.js';

export const SessionSchema = Type.Object({
  user: Type.Ref('User'),
  accessToken: Type.String({ description: 'Bearer token for /api; short-lived' }),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});

export const TwoFactorChallengeSchema = Type.Object(
  {
    twoFactorRequired: Type.Literal(true),
    challenge: Type.String({ description: 'Send it to POST /api/auth/login/2fa with a code; single use' }),
    expiresAt: Type.Integer({ description: 'Epoch ms; the challenge lives five minutes' }),
  },
  { description: 'The password was right; the account has two-factor authentication: no session yet' },
);

/** A session, or (for an account with 2FA) a challenge for the second step. */
export const LoginResponseSchema = Type.Union([SessionSchema, TwoFactorChallengeSchema]);

export const LoginSecondStepBody = Type.Object(
  {
    challenge: Type.String({ minLength: 1, maxLength: 200 }),
    code: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'The authenticator app’s code' })),
    recoveryCode: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'One of the recovery codes (each works once)' }),
    ),
  },
  { additionalProperties: false },
);

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
const AccessFields = {
  organization: Type.Object(
    {
      id: Type.String(),
      name: Type.String(),
      slug: Type.String(),
      role: Type.Union([Type.String(), Type.Null()], {
        description: 'Your role key here; null for a platform admin who is not a member',
      }),
    },
    { description: 'The organization this request is about (x-aihub-organization, or your home organization)' },
  ),
  organizations: Type.Array(
    Type.Object({ id: Type.String(), name: Type.String(), slug: Type.String(), role: Type.String() }),
    { description: 'Every organization you belong to, with your role in each' },
  ),
  teams: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      role: Type.Union([Type.Literal('admin'), Type.Literal('member')]),
    }),
    { description: 'Your teams in this organization' },
  ),
  permissions: Type.Array(Type.String(), { description: 'What you may do in this organization' }),
};

export const MeSchema = Type.Union([
  Type.Intersect([Type.Ref('User'), Type.Object(AccessFields)]),
  Type.Object({ kind: Type.Literal('master_key'), role: Type.Literal('admin'), ...AccessFields }),
]);

export const ProfilePatchBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) },
  { additionalProperties: false },
);

export const PasswordChangeBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Password },
  { additionalProperties: false },
);
