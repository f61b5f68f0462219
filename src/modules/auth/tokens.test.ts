import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import { AccessTokens } from './tokens.js';

const key = new Uint8Array(32).fill(3);
const now = Date.UTC(2026, 0, 15, 12, 0, 0);

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the token to be rejected');
}

describe('AccessTokens', () => {
  const tokens = new AccessTokens(key, 900);

  it('signs a token that verifies to the user, role and whole-second issue time', async () => {
    const token = await tokens.sign('usr_1', 'admin', now + 999);
    expect(await tokens.verify(token, now + 5_000)).toEqual({ userId: 'usr_1', role: 'admin', issuedAt: now / 1000 });
    expect(tokens.ttl).toBe(900);
  });

  it('carries the sign-in (session) it was issued to', async () => {
    const token = await tokens.sign('usr_1', 'user', now, 'fam_1');
    expect(await tokens.verify(token, now)).toEqual({
      userId: 'usr_1',
      role: 'user',
      issuedAt: now / 1000,
      sessionId: 'fam_1',
    });
  });

  it('expires after its lifetime with token_expired', async () => {
    const token = await tokens.sign('usr_1', 'user', now);
    expect((await tokens.verify(token, now + 899_999)).userId).toBe('usr_1');
    const error = await failure(tokens.verify(token, now + 900_000));
    expect(error.code).toBe('token_expired');
    expect(error.status).toBe(401);
  });

  it('rejects a token signed with another key, or garbage, as unauthorized', async () => {
    const other = await new AccessTokens(new Uint8Array(32).fill(4), 900).sign('usr_1', 'admin', now);
    expect((await failure(tokens.verify(other, now))).code).toBe('unauthorized');
    expect((await failure(tokens.verify('not.a.jwt', now))).code).toBe('unauthorized');
  });

  it('rejects a correctly signed token with the wrong audience, issuer or role', async () => {
    const iat = now / 1000;
    const base = () =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('usr_1')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60);
    const wrongAudience = await base().setIssuer('aihub').setAudience('aihub:refresh').sign(key);
    const wrongIssuer = await base().setIssuer('someone').setAudience('aihub:access').sign(key);
    const badRole = await new SignJWT({ role: 'root' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('usr_1')
      .setIssuer('aihub')
      .setAudience('aihub:access')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(key);
    for (const token of [wrongAudience, wrongIssuer, badRole])
      expect((await failure(tokens.verify(token, now))).code).toBe('unauthorized');
  });
});
