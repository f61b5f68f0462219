import type { Kysely, Transaction } from 'kysely';
import { containsAny } from '../../infra/db/contains.js';
import type { Database, UserRole, UserStatus, UsersTable } from '../../infra/db/schema.js';

export interface UserListQuery {
  /** Only members of this organization (undefined: every account of the instance, for platform admins). */
  orgId?: string | undefined;
  search?: string | undefined;
  role?: UserRole | undefined;
  status?: UserStatus | undefined;
  /** Order by this field (default: newest accounts first); ties by id, in the same direction. */
  sort?: UserSort | undefined;
  order?: 'asc' | 'desc' | undefined;
  limit: number;
  offset: number;
}

export type UserSort = 'createdAt' | 'email' | 'name' | 'lastLoginAt';

const SORT_COLUMNS = {
  createdAt: 'created_at',
  email: 'email',
  name: 'name',
  lastLoginAt: 'last_login_at',
} as const satisfies Record<UserSort, keyof UsersTable>;

/** Data access for users and their memberships. */
export class UsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  findById(id: string): Promise<UsersTable | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByEmail(email: string): Promise<UsersTable | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
  }

  /** Whether a user is a member of an organization. */
  async isMember(orgId: string, userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('memberships')
      .select('id')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .where('team_id', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Insert the user and its membership of its (home) organization, with `orgRole`, in one transaction. */
  async insertWithMembership(user: UsersTable, membershipId: string, orgRole: string): Promise<void> {
    await this.db.transaction().execute(async (trx: Transaction<Database>) => {
      await trx.insertInto('users').values(user).execute();
      await trx
        .insertInto('memberships')
        .values({
          id: membershipId,
          user_id: user.id,
          org_id: user.org_id,
          team_id: null,
          role: orgRole,
          created_at: user.created_at,
        })
        .execute();
    });
  }

  async list(query: UserListQuery): Promise<{ rows: UsersTable[]; total: number }> {
    let q = this.db.selectFrom('users');
    const orgId = query.orgId;
    if (orgId !== undefined)
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('memberships')
            .select('memberships.id')
            .whereRef('memberships.user_id', '=', 'users.id')
            .where('memberships.org_id', '=', orgId)
            .where('memberships.team_id', 'is', null),
        ),
      );
    if (query.search) q = q.where(containsAny(query.search, ['email', 'name']));
    if (query.role) q = q.where('role', '=', query.role);
    if (query.status) q = q.where('status', '=', query.status);
    const column = SORT_COLUMNS[query.sort ?? 'createdAt'];
    const order = query.order ?? (query.sort === undefined || query.sort === 'createdAt' ? 'desc' : 'asc');
    const [rows, count] = await Promise.all([
      q
        .selectAll()
        // Users who never signed in (no last login) count as the oldest, on SQLite and PostgreSQL alike.
        .orderBy(column, (ob) => (order === 'desc' ? ob.desc().nullsLast() : ob.asc().nullsFirst()))
        .orderBy('id', order)
        .limit(query.limit)
        .offset(query.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  async update(id: string, patch: Partial<Omit<UsersTable, 'id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('users').set(patch).where('id', '=', id).execute();
  }

  /**
   * Apply `patch` (which takes away an active admin) unless no other active admin would be left; false when
   * it would. Every active admin row is locked first (PostgreSQL row locks; SQLite runs one write transaction
   * at a time), so two admins demoting each other at once cannot both see the other one still active.
   */
  async updateKeepingAnAdmin(id: string, patch: Partial<Omit<UsersTable, 'id' | 'created_at'>>): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set((eb) => ({ updated_at: eb.ref('updated_at') }))
        .where('role', '=', 'admin')
        .where('status', '=', 'active')
        .execute();
      const others = await trx
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('role', '=', 'admin')
        .where('status', '=', 'active')
        .where('id', '<>', id)
        .executeTakeFirstOrThrow();
      if (Number(others.n) === 0) return false;
      await trx.updateTable('users').set(patch).where('id', '=', id).execute();
      return true;
    });
  }

  async firstAdminId(): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .where('status', '=', 'active')
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row?.id;
  }

  async countActiveAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
