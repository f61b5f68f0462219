import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import type { Database, OrganizationsTable, TeamsTable } from '../../infra/db/schema.js';

export interface TeamResponse {
  id: string;
  orgId: string;
  name: string;
  keys: number;
  createdAt: number;
}

/** Teams inside the organization: keys can bill to a team, and a team can carry budgets and rate limits. */
export class TeamsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  async list(): Promise<TeamResponse[]> {
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
    return rows.map((r) => ({
      id: r.id,
      orgId: r.org_id,
      name: r.name,
      keys: Number(r.keys),
      createdAt: r.created_at,
    }));
  }

  find(id: string): Promise<TeamsTable | undefined> {
    return this.db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findOrg(id: string): Promise<OrganizationsTable | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async create(name: string): Promise<TeamResponse> {
    const trimmed = name.trim();
    const clash = await this.db.selectFrom('teams').select('id').where('name', '=', trimmed).executeTakeFirst();
    if (clash) throw new ApiError('conflict', `A team named ${trimmed} already exists`, { param: 'name' });
    const now = this.clock.now();
    const row: TeamsTable = {
      id: this.newId('team'),
      org_id: DEFAULT_ORG_ID,
      name: trimmed,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('teams').values(row).execute();
    return { id: row.id, orgId: row.org_id, name: row.name, keys: 0, createdAt: now };
  }

  readonly #deleted: Array<(teamId: string) => void> = [];

  /** Called after a team is deleted (drop cached keys and limits). */
  onDeleted(listener: (teamId: string) => void): void {
    this.#deleted.push(listener);
  }

  /** Delete a team; its keys stay, without a team. */
  async delete(id: string): Promise<void> {
    if (!(await this.find(id))) throw notFound('Team');
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('api_keys').set({ team_id: null }).where('team_id', '=', id).execute();
      await trx.updateTable('memberships').set({ team_id: null }).where('team_id', '=', id).execute();
      await trx.deleteFrom('limit_policies').where('scope_type', '=', 'team').where('scope_id', '=', id).execute();
      await trx.deleteFrom('teams').where('id', '=', id).execute();
    });
    for (const listener of this.#deleted) listener(id);
  }
}
