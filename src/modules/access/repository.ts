import type { Kysely } from 'kysely';
import type { Database, MembershipsTable, OrganizationsTable, RolesTable } from '../../infra/db/schema.js';

/** Reads what authorization needs: a user's memberships, organizations, role overrides. */
export class AccessRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Every membership of a user (organization rows and team rows). */
  membershipsOf(userId: string): Promise<MembershipsTable[]> {
    return this.db.selectFrom('memberships').selectAll().where('user_id', '=', userId).execute();
  }

  /** An organization by id or slug. */
  findOrg(idOrSlug: string): Promise<OrganizationsTable | undefined> {
    return this.db
      .selectFrom('organizations')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrSlug), eb('slug', '=', idOrSlug)]))
      .executeTakeFirst();
  }

  /** The organizations a user belongs to, with the user's role in each, by name. */
  organizationsOf(userId: string): Promise<Array<{ id: string; name: string; slug: string; role: string }>> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('organizations', 'organizations.id', 'memberships.org_id')
      .select(['organizations.id', 'organizations.name', 'organizations.slug', 'memberships.role'])
      .where('memberships.user_id', '=', userId)
      .where('memberships.team_id', 'is', null)
      .orderBy('organizations.name')
      .execute();
  }

  async teamNames(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('teams').select(['id', 'name']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  findRole(orgId: string, key: string): Promise<RolesTable | undefined> {
    return this.db
      .selectFrom('roles')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('key', '=', key)
      .executeTakeFirst();
  }
}
