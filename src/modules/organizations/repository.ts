import { type Kysely, sql, type Transaction } from 'kysely';
import { containsAny } from '../../infra/db/contains.js';
import type { Database, MembershipsTable, OrganizationsTable, RolesTable } from '../../infra/db/schema.js';

export interface MemberRow {
  user_id: string;
  email: string;
  name: string;
  status: 'active' | 'disabled';
  role: string;
  joined_at: number;
  last_login_at: number | null;
  /** When the member turned two-factor authentication on; null = off. */
  two_factor_enabled_at: number | null;
}

/** A member's row, as lists and single reads select it (memberships ⋈ users ⟕ user_two_factor). */
const MEMBER_COLUMNS = [
  'users.id as user_id',
  'users.email',
  'users.name',
  'users.status',
  'memberships.role',
  'memberships.created_at as joined_at',
  'users.last_login_at',
  'user_two_factor.enabled_at as two_factor_enabled_at',
] as const;

export interface OrganizationWithCounts extends OrganizationsTable {
  members: number;
  teams: number;
}

/** Data access for organizations, their memberships and roles. */
export class OrganizationsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(idOrSlug: string): Promise<OrganizationsTable | undefined> {
    return this.db
      .selectFrom('organizations')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrSlug), eb('slug', '=', idOrSlug)]))
      .executeTakeFirst();
  }

  async slugTaken(slug: string): Promise<boolean> {
    return (
      (await this.db.selectFrom('organizations').select('id').where('slug', '=', slug).executeTakeFirst()) !== undefined
    );
  }

  async withCounts(id: string): Promise<OrganizationWithCounts | undefined> {
    const org = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!org) return undefined;
    const [members, teams] = await Promise.all([
      this.db
        .selectFrom('memberships')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('org_id', '=', id)
        .where('team_id', 'is', null)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('teams')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('org_id', '=', id)
        .executeTakeFirstOrThrow(),
    ]);
    return { ...org, members: Number(members.n), teams: Number(teams.n) };
  }

  /** Organizations with their member counts: every one (platform view) or those of one user, with the role. */
  listWithRole(userId: string | null): Promise<Array<OrganizationsTable & { role: string | null; members: number }>> {
    const counts = this.db
      .selectFrom('memberships')
      .select(['org_id', (eb) => eb.fn.countAll<number>().as('members')])
      .where('team_id', 'is', null)
      .groupBy('org_id')
      .as('c');
    let q = this.db
      .selectFrom('organizations')
      .leftJoin(counts, 'c.org_id', 'organizations.id')
      .leftJoin('memberships as m', (join) =>
        join
          .onRef('m.org_id', '=', 'organizations.id')
          .on('m.team_id', 'is', null)
          .on('m.user_id', '=', userId ?? ''),
      )
      .selectAll('organizations')
      .select(['m.role as role', 'c.members as members']);
    if (userId !== null) q = q.where('m.user_id', '=', userId);
    return q
      .orderBy('organizations.name')
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, role: r.role ?? null, members: Number(r.members ?? 0) })));
  }

  async insertWithOwner(org: OrganizationsTable, owner: MembershipsTable | null): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('organizations').values(org).execute();
      if (owner) await trx.insertInto('memberships').values(owner).execute();
    });
  }

  async update(id: string, patch: Partial<Omit<OrganizationsTable, 'id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('organizations').set(patch).where('id', '=', id).execute();
  }

  /** What still belongs to an organization (a delete is refused while anything does). */
  async contents(id: string): Promise<{ members: number; keys: number; teams: number }> {
    const count = async (table: 'memberships' | 'api_keys' | 'teams') =>
      Number(
        (
          await this.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('org_id', '=', id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const [members, keys, teams] = await Promise.all([count('memberships'), count('api_keys'), count('teams')]);
    return { members, keys, teams };
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('memberships').where('org_id', '=', id).execute();
      await trx.deleteFrom('roles').where('org_id', '=', id).execute();
      await trx.deleteFrom('limit_policies').where('scope_type', '=', 'org').where('scope_id', '=', id).execute();
      await trx.deleteFrom('organizations').where('id', '=', id).execute();
    });
  }

  // ---- memberships

  membership(orgId: string, userId: string): Promise<MembershipsTable | undefined> {
    return this.db
      .selectFrom('memberships')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .where('team_id', 'is', null)
      .executeTakeFirst();
  }

  async membershipCount(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('team_id', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertMembership(row: MembershipsTable): Promise<void> {
    await this.db.insertInto('memberships').values(row).execute();
  }

  async setRole(orgId: string, userId: string, role: string): Promise<void> {
    await this.db
      .updateTable('memberships')
      .set({ role })
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .where('team_id', 'is', null)
      .execute();
  }

  async countRole(orgId: string, role: string): Promise<number> {
    const row = await this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('memberships.org_id', '=', orgId)
      .where('memberships.team_id', 'is', null)
      .where('memberships.role', '=', role)
      .where('users.status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Role keys in use in an organization, with how many members hold each. */
  async roleCounts(orgId: string): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('memberships')
      .select(['role', (eb) => eb.fn.countAll<number>().as('n')])
      .where('org_id', '=', orgId)
      .where('team_id', 'is', null)
      .groupBy('role')
      .execute();
    return new Map(rows.map((r) => [r.role, Number(r.n)]));
  }

  /**
   * Remove a member: their organization and team memberships go, their own keys in this organization are
   * revoked (team-owned keys stay). One transaction. Returns the ids of the keys revoked.
   */
  async removeMember(orgId: string, userId: string, now: number): Promise<string[]> {
    return this.db.transaction().execute(async (trx: Transaction<Database>) => {
      const keys = await trx
        .selectFrom('api_keys')
        .select('id')
        .where('org_id', '=', orgId)
        .where('user_id', '=', userId)
        .where('team_owned', '=', 0)
        .where('status', '!=', 'revoked')
        .execute();
      if (keys.length > 0) {
        await trx
          .updateTable('api_keys')
          .set({ status: 'revoked', revoked_at: now, updated_at: now })
          .where(
            'id',
            'in',
            keys.map((k) => k.id),
          )
          .execute();
      }
      await trx.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
      return keys.map((k) => k.id);
    });
  }

  async listMembers(
    orgId: string,
    query: { search?: string | undefined; role?: string | undefined; limit: number; offset: number },
  ): Promise<{ rows: MemberRow[]; total: number }> {
    let q = this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .leftJoin('user_two_factor', 'user_two_factor.user_id', 'memberships.user_id')
      .where('memberships.org_id', '=', orgId)
      .where('memberships.team_id', 'is', null);
    const search = query.search?.trim();
    if (search) q = q.where(containsAny(search, ['users.email', 'users.name']));
    if (query.role) q = q.where('memberships.role', '=', query.role);
    const [rows, count] = await Promise.all([
      q.select(MEMBER_COLUMNS).orderBy('users.email').limit(query.limit).offset(query.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  member(orgId: string, userId: string): Promise<MemberRow | undefined> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .leftJoin('user_two_factor', 'user_two_factor.user_id', 'memberships.user_id')
      .where('memberships.org_id', '=', orgId)
      .where('memberships.team_id', 'is', null)
      .where('memberships.user_id', '=', userId)
      .select(MEMBER_COLUMNS)
      .executeTakeFirst();
  }

  /** The teams (of one organization) each of these users belongs to. */
  async teamsOf(
    orgId: string,
    userIds: string[],
  ): Promise<Map<string, Array<{ id: string; name: string; role: string }>>> {
    const out = new Map<string, Array<{ id: string; name: string; role: string }>>();
    if (userIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('memberships')
      .innerJoin('teams', 'teams.id', 'memberships.team_id')
      .select(['memberships.user_id', 'teams.id', 'teams.name', 'memberships.role'])
      .where('memberships.org_id', '=', orgId)
      .where('memberships.user_id', 'in', userIds)
      .orderBy('teams.name')
      .execute();
    for (const r of rows) {
      const list = out.get(r.user_id) ?? [];
      list.push({ id: r.id, name: r.name, role: r.role });
      out.set(r.user_id, list);
    }
    return out;
  }

  // ---- roles

  roles(orgId: string): Promise<RolesTable[]> {
    return this.db.selectFrom('roles').selectAll().where('org_id', '=', orgId).orderBy('key').execute();
  }

  role(orgId: string, key: string): Promise<RolesTable | undefined> {
    return this.db
      .selectFrom('roles')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('key', '=', key)
      .executeTakeFirst();
  }

  async insertRole(row: RolesTable): Promise<void> {
    await this.db.insertInto('roles').values(row).execute();
  }

  async updateRole(
    orgId: string,
    key: string,
    patch: Partial<Omit<RolesTable, 'id' | 'org_id' | 'key' | 'created_at'>>,
  ): Promise<void> {
    await this.db.updateTable('roles').set(patch).where('org_id', '=', orgId).where('key', '=', key).execute();
  }

  async deleteRole(orgId: string, key: string): Promise<void> {
    await this.db.deleteFrom('roles').where('org_id', '=', orgId).where('key', '=', key).execute();
  }

  /** Case-insensitive user lookup by email (adding an existing account). */
  userByEmail(email: string) {
    return this.db
      .selectFrom('users')
      .select(['id', 'email', 'status'])
      .where(sql`lower(email)`, '=', email.trim().toLowerCase())
      .executeTakeFirst();
  }
}
