import type { Kysely } from 'kysely';

/**
 * Certificates obtained over ACME, shared by every instance of a hub (one renews under a lease, the others load
 * what it stored), and the HTTP-01 challenges being answered (any instance may receive the CA's request).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('acme_certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('domains', 'text', (c) => c.notNull())
    .addColumn('directory_url', 'text', (c) => c.notNull())
    .addColumn('account_key', 'text')
    .addColumn('cert_pem', 'text')
    .addColumn('key_pem', 'text')
    .addColumn('issuer', 'text')
    .addColumn('not_before', 'bigint')
    .addColumn('not_after', 'bigint')
    .addColumn('renewed_at', 'bigint')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_holder', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('acme_challenges')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('key_authorization', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}
