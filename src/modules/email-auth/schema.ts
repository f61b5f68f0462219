import { Type } from '@sinclair/typebox';
import { Email, EpochMs, Password } from '../../http/schemas.js';

const Token = Type.String({ minLength: 1, maxLength: 200, description: 'The token from the emailed link' });

export const VerifyBody = Type.Object({ token: Token }, { additionalProperties: false });

export const VerifiedSchema = Type.Object({ email: Type.String(), emailVerifiedAt: EpochMs });

export const ForgotBody = Type.Object({ email: Email }, { additionalProperties: false });

export const ResetBody = Type.Object({ token: Token, password: Password }, { additionalProperties: false });

export const AcceptedSchema = Type.Object({ message: Type.String() });
