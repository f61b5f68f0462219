import type { Kysely } from 'kysely';
import type { Database, EmailTokenPurpose, EmailTokensTable } from '../../infra/db/schema.js';

/** Data access for emailed single-use tokens (stored by SHA-256 hash). */
export class EmailTokensRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: EmailTokensTable): Promise<void> {
    await this.db.insertInto('email_tokens').values(row).execute();
  }

  findByHash(purpose: EmailTokenPurpose, tokenHash: string): Promise<EmailTokensTable | undefined> {
    return this.db
      .selectFrom('email_tokens')
      .selectAll()
      .where('purpose', '=', purpose)
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  /** Use a token once: of two concurrent uses only one gets true. */
  async markUsed(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('email_tokens')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Retire every unused token of a user for a purpose (a reset done, an address verified). */
  async retireAll(userId: string, purpose: EmailTokenPurpose, now: number): Promise<void> {
    await this.db
      .updateTable('email_tokens')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .execute();
  }

  /** Drop tokens that expired before `before` (kept a while for the "expired" answer). */
  async purgeExpired(before: number): Promise<void> {
    await this.db.deleteFrom('email_tokens').where('expires_at', '<', before).execute();
  }

  async markVerified(userId: string, email: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ email_verified_at: now, updated_at: now })
      .where('id', '=', userId)
      .where('email', '=', email)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
