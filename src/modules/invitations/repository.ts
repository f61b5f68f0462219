import type { Kysely } from 'kysely';
import type { Database, InvitationsTable } from '../../infra/db/schema.js';

/** An invitation with the names the API shows. */
export interface InvitationRow extends InvitationsTable {
  team_name: string | null;
  inviter_email: string | null;
}

/** Data access for invitations. Every read by id is within one organization. */
export class InvitationsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: InvitationsTable): Promise<void> {
    await this.db.insertInto('invitations').values(row).execute();
  }

  private rows() {
    return this.db
      .selectFrom('invitations')
      .leftJoin('teams', 'teams.id', 'invitations.team_id')
      .leftJoin('users', 'users.id', 'invitations.invited_by')
      .selectAll('invitations')
      .select(['teams.name as team_name', 'users.email as inviter_email']);
  }

  list(orgId: string): Promise<InvitationRow[]> {
    return this.rows()
      .where('invitations.org_id', '=', orgId)
      .orderBy('invitations.created_at', 'desc')
      .orderBy('invitations.id', 'desc')
      .limit(1000)
      .execute();
  }

  inOrg(orgId: string, id: string): Promise<InvitationRow | undefined> {
    return this.rows().where('invitations.org_id', '=', orgId).where('invitations.id', '=', id).executeTakeFirst();
  }

  byTokenHash(tokenHash: string): Promise<InvitationRow | undefined> {
    return this.rows().where('invitations.token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** The organization's open (not accepted, not revoked, not expired) invitation of an address, if any. */
  openFor(orgId: string, email: string, now: number): Promise<InvitationsTable | undefined> {
    return this.db
      .selectFrom('invitations')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('email', '=', email)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
  }

  /** Change an invitation that is neither accepted nor revoked; false when it no longer is. */
  async updateOpen(id: string, patch: Partial<InvitationsTable>): Promise<boolean> {
    const result = await this.db
      .updateTable('invitations')
      .set(patch)
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Take an open invitation for acceptance: of two concurrent accepts only one gets true. */
  async claim(id: string, userId: string | null, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('invitations')
      .set({ accepted_at: now, accepted_by: userId })
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setAcceptedBy(id: string, userId: string): Promise<void> {
    await this.db.updateTable('invitations').set({ accepted_by: userId }).where('id', '=', id).execute();
  }

  /** Give a claimed invitation back (its memberships could not be made). */
  async unclaim(id: string): Promise<void> {
    await this.db
      .updateTable('invitations')
      .set({ accepted_at: null, accepted_by: null })
      .where('id', '=', id)
      .execute();
  }
}
