import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ApiError } from '../../core/errors.js';
import type { UserRole } from '../../infra/db/schema.js';

const ISSUER = 'aihub';
const AUDIENCE = 'aihub:access';

export interface AccessClaims {
  userId: string;
  role: UserRole;
  /** Issued-at, epoch seconds. */
  issuedAt: number;
  /** The sign-in (refresh-token family) the token was issued to, when it was issued to one. */
  sessionId?: string;
}

/** Short-lived HS256 access tokens for the console and /api automation by users. */
export class AccessTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly ttlSeconds: number,
  ) {}

  get ttl(): number {
    return this.ttlSeconds;
  }

  async sign(userId: string, role: UserRole, nowMs: number, sessionId?: string): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    return new SignJWT(sessionId === undefined ? { role } : { role, sid: sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .sign(this.key);
  }

  async verify(token: string, nowMs: number): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        currentDate: new Date(nowMs),
      });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || (role !== 'admin' && role !== 'user') || typeof payload.iat !== 'number') {
        throw new ApiError('unauthorized', 'Malformed access token');
      }
      const claims: AccessClaims = { userId: payload.sub, role, issuedAt: payload.iat };
      if (typeof payload.sid === 'string') claims.sessionId = payload.sid;
      return claims;
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof joseErrors.JWTExpired)
        throw new ApiError('token_expired', 'Access token expired; refresh the session');
      throw new ApiError('unauthorized', 'Invalid access token');
    }
  }
}
