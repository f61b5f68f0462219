import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { randomSecret, sha256Hex } from '../../core/secrets.js';
import type { RefreshTokensTable } from '../../infra/db/schema.js';
import type { RefreshTokensRepository } from './repository.js';

export interface IssuedRefreshToken {
  token: string;
  expiresAt: number;
}

export interface RefreshContext {
  ip: string | null;
  userAgent: string | null;
}

/**
 * Rotating refresh tokens. Each use exchanges the token for a new one in the same family; presenting
 * an already-rotated token is treated as theft and revokes the whole family (OAuth 2.0 BCP §4.14).
 */
export class RefreshSessions {
  constructor(
    private readonly repo: RefreshTokensRepository,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
    private readonly ttlSeconds: number,
  ) {}

  async issue(userId: string, context: RefreshContext, familyId?: string): Promise<IssuedRefreshToken> {
    const token = `rt_${randomSecret(32)}`;
    const now = this.clock.now();
    const expiresAt = now + this.ttlSeconds * 1000;
    await this.repo.insert({
      id: this.newId('rtk'),
      family_id: familyId ?? this.newId('fam'),
      user_id: userId,
      token_hash: sha256Hex(token),
      created_at: now,
      expires_at: expiresAt,
      rotated_at: null,
      revoked_at: null,
      ip: context.ip,
      user_agent: context.userAgent?.slice(0, 300) ?? null,
    });
    return { token, expiresAt };
  }

  /** Exchange a refresh token for a new one. Returns the owner's id; throws 401 on any problem. */
  async rotate(token: string, context: RefreshContext): Promise<{ userId: string; next: IssuedRefreshToken }> {
    const row = await this.find(token);
    const now = this.clock.now();
    if (!row || row.revoked_at !== null || row.expires_at <= now) {
      throw new ApiError('unauthorized', 'Session expired; sign in again');
    }
    if (row.rotated_at !== null) {
      await this.revokeFamily(row.family_id);
      throw new ApiError('unauthorized', 'Refresh token reuse detected; all sessions of this sign-in were ended');
    }
    // Conditional update: of two concurrent uses only one wins; the other counts as reuse.
    if (!(await this.repo.markRotated(row.id, now))) {
      await this.revokeFamily(row.family_id);
      throw new ApiError('unauthorized', 'Refresh token reuse detected; all sessions of this sign-in were ended');
    }
    return { userId: row.user_id, next: await this.issue(row.user_id, context, row.family_id) };
  }

  /** End the sign-in the token belongs to (logout). Unknown tokens are ignored. */
  async revokeByToken(token: string): Promise<void> {
    const row = await this.find(token);
    if (row) await this.revokeFamily(row.family_id);
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.repo.revokeFamily(familyId, this.clock.now());
  }

  /** End every session of a user (disabled, password changed). */
  async revokeAllForUser(userId: string): Promise<void> {
    await this.repo.revokeAllForUser(userId, this.clock.now());
  }

  private find(token: string): Promise<RefreshTokensTable | undefined> {
    return this.repo.findByHash(sha256Hex(token));
  }
}
