import type { Kysely } from 'kysely';
import type { Database, RefreshTokensTable } from '../../infra/db/schema.js';

/** Data access for refresh tokens (stored by SHA-256 hash, grouped in families of one sign-in). */
export class RefreshTokensRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: RefreshTokensTable): Promise<void> {
    await this.db.insertInto('refresh_tokens').values(row).execute();
  }

  findByHash(tokenHash: string): Promise<RefreshTokensTable | undefined> {
    return this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /**
   * Mark a token rotated, only if it is not yet: of two concurrent uses only one gets true (the other
   * counts as reuse).
   */
  async markRotated(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('refresh_tokens')
      .set({ rotated_at: now })
      .where('id', '=', id)
      .where('rotated_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async revokeFamily(familyId: string, now: number): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  async revokeAllForUser(userId: string, now: number): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** The live token of each of a user's sign-ins (neither rotated, revoked nor expired). */
  activeForUser(userId: string, now: number): Promise<RefreshTokensTable[]> {
    return this.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('rotated_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .execute();
  }

  /** When each sign-in (family) began: its first token's creation. */
  async familyStarts(familyIds: string[]): Promise<Map<string, number>> {
    if (familyIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('refresh_tokens')
      .select((eb) => ['family_id', eb.fn.min<number>('created_at').as('started')])
      .where('family_id', 'in', familyIds)
      .groupBy('family_id')
      .execute();
    return new Map(rows.map((r) => [r.family_id, Number(r.started)]));
  }

  /** Access tokens issued before `at` stop working (sign out everywhere). */
  async setSessionsValidAfter(userId: string, at: number): Promise<void> {
    await this.db.updateTable('users').set({ sessions_valid_after: at }).where('id', '=', userId).execute();
  }
}
