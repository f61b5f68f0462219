import { type Kysely, sql } from 'kysely';

/**
 * Multi-tenancy: organizations with settings (status, model access, price multiplier, 2FA requirement,
 * self-serve owner), roles per organization (overrides of the built-in roles and custom ones), memberships
 * with a role per organization and per team, team-owned (service) keys, and the audit log by organization.
 *
 * Existing data stays in the "Default" organization: every user becomes a member of it (instance admins as
 * its owners, everyone else as developers), and every existing audit entry belongs to it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('organizations')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .execute();
  await db.schema.alterTable('organizations').addColumn('allowed_models', 'text').execute();
  await db.schema.alterTable('organizations').addColumn('price_multiplier_ppm', 'bigint').execute();
  await db.schema
    .alterTable('organizations')
    .addColumn('require_2fa', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('organizations').addColumn('created_by', 'text').execute();

  await db.schema.alterTable('teams').addColumn('description', 'text').execute();
  await db.schema.alterTable('teams').addColumn('allowed_models', 'text').execute();
  await db.schema.alterTable('teams').addColumn('price_multiplier_ppm', 'bigint').execute();

  await db.schema
    .createTable('roles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('roles_org_key_idx').on('roles').columns(['org_id', 'key']).unique().execute();

  // Memberships: one row per (user, organization) with team_id null, and one per (user, team).
  // Wave 1 wrote 'member' for everyone; instance admins become owners of their organization.
  await sql`update memberships set role = 'developer' where team_id is null`.execute(db);
  await sql`update memberships set role = 'owner' where team_id is null and user_id in (select id from users where role = 'admin')`.execute(
    db,
  );
  // Team rows written by wave 1 (none were, but be safe) keep a team role.
  await sql`update memberships set role = 'member' where team_id is not null`.execute(db);
  await db.schema
    .createIndex('memberships_org_user_idx')
    .on('memberships')
    .columns(['org_id', 'user_id'])
    .unique()
    .where(sql.ref('team_id'), 'is', null)
    .execute();
  await db.schema
    .createIndex('memberships_team_user_idx')
    .on('memberships')
    .columns(['team_id', 'user_id'])
    .unique()
    .where(sql.ref('team_id'), 'is not', null)
    .execute();

  // A service key is owned by its team: it survives its creator leaving (user_id stays the creator).
  await db.schema
    .alterTable('api_keys')
    .addColumn('team_owned', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema.alterTable('audit_logs').addColumn('org_id', 'text').execute();
  await sql`update audit_logs set org_id = 'org_default'`.execute(db);
  await db.schema.createIndex('audit_logs_org_at_idx').on('audit_logs').columns(['org_id', 'at']).execute();

  await db.schema.alterTable('users').addColumn('email_verified_at', 'bigint').execute();
  // "Sign out everywhere": access tokens issued before this instant stop working.
  await db.schema
    .alterTable('users')
    .addColumn('sessions_valid_after', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}
