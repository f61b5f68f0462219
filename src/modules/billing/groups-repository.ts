import type { Kysely } from 'kysely';
import type { Database, PricingGroupsTable } from '../../infra/db/schema.js';

/** Pricing groups and who follows them. Only data access, no rules. */
export class PricingGroupRepository {
  constructor(private readonly db: Kysely<Database>) {}

  list(): Promise<Array<PricingGroupsTable & { organizations: number; teams: number }>> {
    return this.db
      .selectFrom('pricing_groups')
      .selectAll('pricing_groups')
      .select((eb) => [
        eb
          .selectFrom('organizations')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('organizations.pricing_group_id', '=', 'pricing_groups.id')
          .as('organizations'),
        eb
          .selectFrom('teams')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('teams.pricing_group_id', '=', 'pricing_groups.id')
          .as('teams'),
      ])
      .orderBy('name')
      .execute() as Promise<Array<PricingGroupsTable & { organizations: number; teams: number }>>;
  }

  get(id: string): Promise<PricingGroupsTable | undefined> {
    return this.db.selectFrom('pricing_groups').selectAll().where('id', '=', id).executeTakeFirst();
  }

  byName(name: string): Promise<PricingGroupsTable | undefined> {
    return this.db.selectFrom('pricing_groups').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async insert(row: PricingGroupsTable): Promise<void> {
    await this.db.insertInto('pricing_groups').values(row).execute();
  }

  async update(id: string, patch: Partial<Omit<PricingGroupsTable, 'id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('pricing_groups').set(patch).where('id', '=', id).execute();
  }

  /** Delete a group no organization or team follows (false when one still does, or it is gone). */
  async deleteUnused(id: string): Promise<'deleted' | 'in_use' | 'missing'> {
    return this.db.transaction().execute(async (trx) => {
      const org = await trx
        .selectFrom('organizations')
        .select('id')
        .where('pricing_group_id', '=', id)
        .executeTakeFirst();
      const team = await trx.selectFrom('teams').select('id').where('pricing_group_id', '=', id).executeTakeFirst();
      if (org || team) return 'in_use';
      const result = await trx.deleteFrom('pricing_groups').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1 ? 'deleted' : 'missing';
    });
  }

  /** Assign an organization to a group (null: none); false when the organization does not exist. */
  async assignOrg(orgId: string, groupId: string | null, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('organizations')
      .set({ pricing_group_id: groupId, updated_at: at })
      .where((eb) => eb.or([eb('id', '=', orgId), eb('slug', '=', orgId)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Assign a team of an organization to a group (null: the organization's); false when no such team. */
  async assignTeam(orgId: string, teamId: string, groupId: string | null, at: number): Promise<boolean> {
    const org = await this.db
      .selectFrom('organizations')
      .select('id')
      .where((eb) => eb.or([eb('id', '=', orgId), eb('slug', '=', orgId)]))
      .executeTakeFirst();
    if (!org) return false;
    const result = await this.db
      .updateTable('teams')
      .set({ pricing_group_id: groupId, updated_at: at })
      .where('id', '=', teamId)
      .where('org_id', '=', org.id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Every group, and every organization and team that follows one (what the data plane prices with). */
  async snapshot(): Promise<{
    groups: PricingGroupsTable[];
    orgs: Array<{ id: string; group: string }>;
    teams: Array<{ id: string; group: string }>;
  }> {
    const [groups, orgs, teams] = await Promise.all([
      this.db.selectFrom('pricing_groups').selectAll().execute(),
      this.db
        .selectFrom('organizations')
        .select(['id', 'pricing_group_id'])
        .where('pricing_group_id', 'is not', null)
        .execute(),
      this.db
        .selectFrom('teams')
        .select(['id', 'pricing_group_id'])
        .where('pricing_group_id', 'is not', null)
        .execute(),
    ]);
    return {
      groups,
      orgs: orgs.map((o) => ({ id: o.id, group: o.pricing_group_id as string })),
      teams: teams.map((t) => ({ id: t.id, group: t.pricing_group_id as string })),
    };
  }
}
