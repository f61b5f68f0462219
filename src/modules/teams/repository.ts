import type { Kysely } from 'kysely';
import type { Database, OrganizationsTable, TeamsTable } from '../../infra/db/schema.js';

/** A team with how many of its keys are not revoked. */
export interface TeamWithKeyCount extends Omit<TeamsTable, 'updated_at'> {
  keys: number;
}

/** Data access for teams (and the organizations they belong to). */
export class TeamsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Every team by name, with its count of keys that are not revoked. */
  async listWithKeyCounts(): Promise<TeamWithKeyCount[]> {
    const rows = await this.db
      .selectFrom('teams')
      .leftJoin('api_keys', (join) =>
        join.onRef('api_keys.team_id', '=', 'teams.id').on('api_keys.status', '!=', 'revoked'),
      )
      .select((eb) => [
        'teams.id',
        'teams.org_id',
        'teams.name',
        'teams.created_at',
        eb.fn.count<number>('api_keys.id').as('keys'),
      ])
      .groupBy(['teams.id', 'teams.org_id', 'teams.name', 'teams.created_at'])
      .orderBy('teams.name')
      .execute();
    return rows.map((r) => ({ ...r, keys: Number(r.keys) }));
  }

  findById(id: string): Promise<TeamsTable | undefined> {
    return this.db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async nameTaken(name: string): Promise<boolean> {
    return (await this.db.selectFrom('teams').select('id').where('name', '=', name).executeTakeFirst()) !== undefined;
  }

  findOrg(id: string): Promise<OrganizationsTable | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: TeamsTable): Promise<void> {
    await this.db.insertInto('teams').values(row).execute();
  }

  /** Delete a team and its limits; its keys and memberships stay, without a team (one transaction). */
  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('api_keys').set({ team_id: null }).where('team_id', '=', id).execute();
      await trx.updateTable('memberships').set({ team_id: null }).where('team_id', '=', id).execute();
      await trx.deleteFrom('limit_policies').where('scope_type', '=', 'team').where('scope_id', '=', id).execute();
      await trx.deleteFrom('teams').where('id', '=', id).execute();
    });
  }
}
