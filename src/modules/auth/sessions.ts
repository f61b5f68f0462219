import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { randomSecret, sha256Hex } from '../../core/secrets.js';
import type { RefreshTokensTable } from '../../infra/db/schema.js';
import type { RefreshTokensRepository } from './repository.js';

export interface IssuedRefreshToken {
  token: string;
  expiresAt: number;
  /** The sign-in (refresh-token family) the token belongs to. */
  familyId: string;
}

/** One sign-in of a user, as the sessions list shows it. */
export interface SignInSession {
  /** The refresh-token family id. */
  id: string;
  createdAt: number;
  /** The last sign-in or refresh (when the live token was issued). */
  lastUsedAt: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
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
    const family = familyId ?? this.newId('fam');
    await this.repo.insert({
      id: this.newId('rtk'),
      family_id: family,
      user_id: userId,
      token_hash: sha256Hex(token),
      created_at: now,
      expires_at: expiresAt,
      rotated_at: null,
      revoked_at: null,
      ip: context.ip,
      user_agent: context.userAgent?.slice(0, 300) ?? null,
    });
    return { token, expiresAt, familyId: family };
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

  /** End the sign-in the token belongs to (logout); returns its owner and family. Unknown tokens are ignored. */
  async revokeByToken(token: string): Promise<{ userId: string; familyId: string } | undefined> {
    const row = await this.find(token);
    if (!row) return undefined;
    await this.revokeFamily(row.family_id);
    return { userId: row.user_id, familyId: row.family_id };
  }

  /** The sign-in a refresh token belongs to (any state), if it is one. */
  async familyOf(token: string): Promise<string | undefined> {
    return (await this.find(token))?.family_id;
  }

  /** A user's live sign-ins, most recently used first. */
  async list(userId: string): Promise<SignInSession[]> {
    const live = await this.repo.activeForUser(userId, this.clock.now());
    const starts = await this.repo.familyStarts(live.map((r) => r.family_id));
    return live.map((r) => ({
      id: r.family_id,
      createdAt: starts.get(r.family_id) ?? r.created_at,
      lastUsedAt: r.created_at,
      expiresAt: r.expires_at,
      ip: r.ip,
      userAgent: r.user_agent,
    }));
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.repo.revokeFamily(familyId, this.clock.now());
  }

  /** End every session of a user (disabled, password changed). */
  async revokeAllForUser(userId: string): Promise<void> {
    await this.repo.revokeAllForUser(userId, this.clock.now());
  }

  /** Revoke every sign-in of a user and refuse the access tokens issued until now; returns that instant. */
  async signOutEverywhere(userId: string): Promise<number> {
    const now = this.clock.now();
    await this.repo.revokeAllForUser(userId, now);
    await this.repo.setSessionsValidAfter(userId, now);
    return now;
  }

  private find(token: string): Promise<RefreshTokensTable | undefined> {
    return this.repo.findByHash(sha256Hex(token));
  }
}
