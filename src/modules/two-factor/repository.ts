import type { Kysely } from 'kysely';
import type { Database, LoginChallengesTable, UserTwoFactorTable } from '../../infra/db/schema.js';

/** Data access for authenticators, recovery codes and sign-in challenges. */
export class TwoFactorRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(userId: string): Promise<UserTwoFactorTable | undefined> {
    return this.db.selectFrom('user_two_factor').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  /** Start (or restart) a pending enrolment with a new secret; an enabled authenticator is never replaced. */
  async savePending(userId: string, sealedSecret: string, now: number): Promise<boolean> {
    const existing = await this.find(userId);
    if (existing?.enabled_at != null) return false;
    if (existing) {
      const result = await this.db
        .updateTable('user_two_factor')
        .set({ secret: sealedSecret, last_used_step: null, updated_at: now })
        .where('user_id', '=', userId)
        .where('enabled_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    }
    await this.db
      .insertInto('user_two_factor')
      .values({
        user_id: userId,
        secret: sealedSecret,
        enabled_at: null,
        last_used_step: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return true;
  }

  /**
   * Record that a code of `step` was used, only if no code of that step or a later one was: of two
   * concurrent uses of one code only one gets true.
   */
  async useStep(userId: string, step: number, now: number, enable = false): Promise<boolean> {
    const result = await this.db
      .updateTable('user_two_factor')
      .set({ last_used_step: step, updated_at: now, ...(enable ? { enabled_at: now } : {}) })
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .where('enabled_at', enable ? 'is' : 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Remove the authenticator and every recovery code (disable, admin reset). */
  async remove(userId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      const result = await trx.deleteFrom('user_two_factor').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    });
  }

  /** Replace a user's recovery codes. */
  async replaceRecoveryCodes(
    userId: string,
    rows: Array<{ id: string; code_hash: string }>,
    now: number,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      await trx
        .insertInto('recovery_codes')
        .values(rows.map((r) => ({ ...r, user_id: userId, used_at: null, created_at: now })))
        .execute();
    });
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Spend a recovery code: true once, for an unused code of this user. */
  async useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('recovery_codes')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Whether the organization requires 2FA, and whether the user has it, in one query. */
  async requirement(orgId: string, userId: string): Promise<{ required: boolean; enabled: boolean }> {
    const row = await this.db
      .selectFrom('organizations')
      .leftJoin('user_two_factor', (join) => join.on('user_two_factor.user_id', '=', userId))
      .select(['organizations.require_2fa', 'user_two_factor.enabled_at'])
      .where('organizations.id', '=', orgId)
      .executeTakeFirst();
    return { required: Number(row?.require_2fa ?? 0) === 1, enabled: row?.enabled_at != null };
  }

  /** The organizations a user belongs to that require 2FA. */
  orgsRequiring(userId: string): Promise<Array<{ id: string; name: string }>> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('organizations', 'organizations.id', 'memberships.org_id')
      .select(['organizations.id', 'organizations.name'])
      .where('memberships.user_id', '=', userId)
      .where('memberships.team_id', 'is', null)
      .where('organizations.require_2fa', '=', 1)
      .orderBy('organizations.name')
      .execute();
  }

  // ---- sign-in challenges

  async insertChallenge(row: LoginChallengesTable): Promise<void> {
    await this.db.insertInto('login_challenges').values(row).execute();
  }

  findChallenge(tokenHash: string): Promise<LoginChallengesTable | undefined> {
    return this.db.selectFrom('login_challenges').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** Count a wrong code against a challenge; returns the attempts so far. */
  async failChallenge(id: string): Promise<void> {
    await this.db
      .updateTable('login_challenges')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .execute();
  }

  /** Use a challenge: true once. */
  async consumeChallenge(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('login_challenges')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Drop challenges that expired before `before` (they are kept a while, to say "expired" rather than "unknown"). */
  async purgeChallenges(before: number): Promise<void> {
    await this.db.deleteFrom('login_challenges').where('expires_at', '<', before).execute();
  }
}
