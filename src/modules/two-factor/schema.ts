import { Type } from '@sinclair/typebox';

export const TwoFactorStatusSchema = Type.Object({
  enabled: Type.Boolean(),
  enabledAt: Type.Union([Type.Integer(), Type.Null()], { description: 'Epoch ms' }),
  recoveryCodesLeft: Type.Integer({ description: 'Unused recovery codes' }),
  required: Type.Boolean({ description: 'The organization of this request requires two-factor authentication' }),
  requiredBy: Type.Array(Type.Object({ id: Type.String(), name: Type.String() }), {
    description: 'Your organizations that require two-factor authentication',
  }),
});

export const TwoFactorSetupSchema = Type.Object({
  secret: Type.String({ description: 'Base32 secret, for typing into an authenticator app' }),
  otpauthUrl: Type.String({ description: 'otpauth://totp/… URI' }),
  qrCode: Type.String({ description: 'The URI as a PNG QR code: a data: URL' }),
});

export const RecoveryCodesSchema = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'Shown once; each works once' }),
});

const Code = Type.String({ minLength: 1, maxLength: 20, description: 'A code from the authenticator app' });

export const CodeBody = Type.Object({ code: Code }, { additionalProperties: false });

export const DisableBody = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: 256 }), code: Type.Optional(Code) },
  { additionalProperties: false },
);
