import type { Kysely } from 'kysely';
import type {
  Database,
  SsoConnectionsTable,
  SsoStatesTable,
  UserIdentitiesTable,
  UsersTable,
} from '../../infra/db/schema.js';

/** All SQL of single sign-on: connections, identity links, sign-ins in flight. */
export class SsoRepository {
  constructor(private readonly db: Kysely<Database>) {}

  // ---- connections

  async insertConnection(row: SsoConnectionsTable): Promise<void> {
    await this.db.insertInto('sso_connections').values(row).execute();
  }

  async updateConnection(id: string, patch: Partial<SsoConnectionsTable>): Promise<void> {
    await this.db.updateTable('sso_connections').set(patch).where('id', '=', id).execute();
  }

  /** Delete a connection with its identity links and sign-ins in flight. */
  async deleteConnection(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('user_identities').where('connection_id', '=', id).execute();
      await trx.deleteFrom('sso_states').where('connection_id', '=', id).execute();
      await trx.deleteFrom('sso_connections').where('id', '=', id).execute();
    });
  }

  findConnection(id: string): Promise<SsoConnectionsTable | undefined> {
    return this.db.selectFrom('sso_connections').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** One organization's connections, or the instance-wide ones (orgId null). */
  listConnections(orgId: string | null): Promise<SsoConnectionsTable[]> {
    let q = this.db.selectFrom('sso_connections').selectAll();
    q = orgId === null ? q.where('org_id', 'is', null) : q.where('org_id', '=', orgId);
    return q.orderBy('created_at').orderBy('id').execute();
  }

  listEnabledConnections(): Promise<SsoConnectionsTable[]> {
    return this.db
      .selectFrom('sso_connections')
      .selectAll()
      .where('enabled', '=', 1)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  /** Enabled SSO-only connections of these organizations and the instance-wide ones. */
  ssoOnlyConnections(orgIds: string[]): Promise<SsoConnectionsTable[]> {
    return this.db
      .selectFrom('sso_connections')
      .selectAll()
      .where('enabled', '=', 1)
      .where('sso_only', '=', 1)
      .where((eb) =>
        orgIds.length > 0 ? eb.or([eb('org_id', 'is', null), eb('org_id', 'in', orgIds)]) : eb('org_id', 'is', null),
      )
      .orderBy('created_at')
      .execute();
  }

  // ---- identities

  findIdentity(connectionId: string, subject: string): Promise<UserIdentitiesTable | undefined> {
    return this.db
      .selectFrom('user_identities')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .where('subject', '=', subject)
      .executeTakeFirst();
  }

  async insertIdentity(row: UserIdentitiesTable): Promise<void> {
    await this.db.insertInto('user_identities').values(row).execute();
  }

  async touchIdentity(id: string, now: number, email: string | null): Promise<void> {
    await this.db.updateTable('user_identities').set({ last_login_at: now, email }).where('id', '=', id).execute();
  }

  /** Connections this user has signed in with. */
  async linkedConnectionIds(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('user_identities')
      .select('connection_id')
      .where('user_id', '=', userId)
      .execute();
    return rows.map((r) => r.connection_id);
  }

  // ---- users, organizations, teams (read-only lookups for the flow)

  findUser(id: string): Promise<UsersTable | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findUserByEmail(email: string): Promise<UsersTable | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
  }

  async markEmailVerified(userId: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ email_verified_at: now })
      .where('id', '=', userId)
      .where('email_verified_at', 'is', null)
      .execute();
  }

  /** The organizations a user is a member of. */
  async organizationsOf(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('memberships')
      .select('org_id')
      .where('user_id', '=', userId)
      .where('team_id', 'is', null)
      .execute();
    return rows.map((r) => r.org_id);
  }

  async orgNames(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('organizations').select(['id', 'name']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  async orgExists(id: string): Promise<boolean> {
    return (
      (await this.db.selectFrom('organizations').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
    );
  }

  findOrgBySlugOrId(idOrSlug: string): Promise<{ id: string } | undefined> {
    return this.db
      .selectFrom('organizations')
      .select('id')
      .where((eb) => eb.or([eb('id', '=', idOrSlug), eb('slug', '=', idOrSlug)]))
      .executeTakeFirst();
  }

  /** Organization and name of each team. */
  async teams(ids: string[]): Promise<Map<string, { orgId: string; name: string }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('teams').select(['id', 'org_id', 'name']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, { orgId: r.org_id, name: r.name }]));
  }

  // ---- sign-ins in flight

  async insertState(row: SsoStatesTable): Promise<void> {
    await this.db.insertInto('sso_states').values(row).execute();
  }

  findState(id: string): Promise<SsoStatesTable | undefined> {
    return this.db.selectFrom('sso_states').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Mark a state used, only if it is not yet: the callback runs once per state. */
  async consumeState(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sso_states')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async saveResult(id: string, result: string): Promise<void> {
    await this.db.updateTable('sso_states').set({ result }).where('id', '=', id).execute();
  }

  /** A test sign-in of this connection (its id is the state's hash). */
  findTest(connectionId: string, testId: string): Promise<SsoStatesTable | undefined> {
    return this.db
      .selectFrom('sso_states')
      .selectAll()
      .where('id', '=', testId)
      .where('connection_id', '=', connectionId)
      .where('mode', '=', 'test')
      .executeTakeFirst();
  }

  async purgeStates(before: number): Promise<void> {
    await this.db.deleteFrom('sso_states').where('expires_at', '<', before).execute();
  }
}
