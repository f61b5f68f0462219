import type { Kysely } from 'kysely';
import type { Database, OrganizationsTable, TeamsTable } from '../../infra/db/schema.js';

/** A team with how many of its keys are not revoked and how many members it has. */
export interface TeamWithCounts extends TeamsTable {
  keys: number;
  members: number;
}

export interface TeamMemberRow {
  user_id: string;
  email: string;
  name: string;
  role: string;
  joined_at: number;
}

/** Data access for teams, their members (and the organizations they belong to). */
export class TeamsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The teams of one organization by name, with their counts of live keys and members. */
  async listWithCounts(orgId: string, onlyIds?: string[]): Promise<TeamWithCounts[]> {
    if (onlyIds && onlyIds.length === 0) return [];
    const keys = this.db
      .selectFrom('api_keys')
      .select(['team_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '!=', 'revoked')
      .where('team_id', 'is not', null)
      .groupBy('team_id')
      .as('k');
    const members = this.db
      .selectFrom('memberships')
      .select(['team_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('team_id', 'is not', null)
      .groupBy('team_id')
      .as('m');
    let q = this.db
      .selectFrom('teams')
      .leftJoin(keys, 'k.team_id', 'teams.id')
      .leftJoin(members, 'm.team_id', 'teams.id')
      .selectAll('teams')
      .select(['k.n as keys', 'm.n as members'])
      .where('teams.org_id', '=', orgId);
    if (onlyIds) q = q.where('teams.id', 'in', onlyIds);
    const rows = await q.orderBy('teams.name').execute();
    return rows.map((r) => ({ ...r, keys: Number(r.keys ?? 0), members: Number(r.members ?? 0) }));
  }

  findById(id: string): Promise<TeamsTable | undefined> {
    return this.db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async nameTaken(orgId: string, name: string, exceptId?: string): Promise<boolean> {
    let q = this.db.selectFrom('teams').select('id').where('org_id', '=', orgId).where('name', '=', name);
    if (exceptId) q = q.where('id', '!=', exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  }

  findOrg(id: string): Promise<OrganizationsTable | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: TeamsTable): Promise<void> {
    await this.db.insertInto('teams').values(row).execute();
  }

  async update(id: string, patch: Partial<Omit<TeamsTable, 'id' | 'org_id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('teams').set(patch).where('id', '=', id).execute();
  }

  /** Delete a team, its memberships and limits; its keys stay, without a team (one transaction). */
  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('api_keys').set({ team_id: null, team_owned: 0 }).where('team_id', '=', id).execute();
      await trx.deleteFrom('memberships').where('team_id', '=', id).execute();
      await trx.deleteFrom('limit_policies').where('scope_type', '=', 'team').where('scope_id', '=', id).execute();
      await trx.deleteFrom('teams').where('id', '=', id).execute();
    });
  }

  members(teamId: string): Promise<TeamMemberRow[]> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select([
        'users.id as user_id',
        'users.email',
        'users.name',
        'memberships.role',
        'memberships.created_at as joined_at',
      ])
      .where('memberships.team_id', '=', teamId)
      .orderBy('users.email')
      .execute();
  }

  async teamMembership(teamId: string, userId: string): Promise<{ role: string } | undefined> {
    return this.db
      .selectFrom('memberships')
      .select('role')
      .where('team_id', '=', teamId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  async isOrgMember(orgId: string, userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('memberships')
      .select('id')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .where('team_id', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async insertMember(row: {
    id: string;
    user_id: string;
    org_id: string;
    team_id: string;
    role: string;
    created_at: number;
  }): Promise<void> {
    await this.db.insertInto('memberships').values(row).execute();
  }

  async setMemberRole(teamId: string, userId: string, role: string): Promise<void> {
    await this.db
      .updateTable('memberships')
      .set({ role })
      .where('team_id', '=', teamId)
      .where('user_id', '=', userId)
      .execute();
  }

  async deleteMember(teamId: string, userId: string): Promise<void> {
    await this.db.deleteFrom('memberships').where('team_id', '=', teamId).where('user_id', '=', userId).execute();
  }
}
