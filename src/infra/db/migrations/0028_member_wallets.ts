import type { Kysely } from 'kysely';

/**
 * Team and user wallets (docs/billing.md "Team and user wallets"): a balance of its own for a team, or for a
 * user in an organization, beside the organization's wallet. Their ledger entries are the organization's
 * `wallet_transactions` rows with `wallet_id` set (null: the organization's own wallet), so the ledger stays
 * one append-only table and every wallet's balance is the sum of its rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('member_wallets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('owner_type', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('balance_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('member_wallets_owner', ['org_id', 'owner_type', 'owner_id'])
    .execute();
  await db.schema.alterTable('wallet_transactions').addColumn('wallet_id', 'text').execute();
  await db.schema
    .createIndex('wallet_transactions_wallet')
    .on('wallet_transactions')
    .columns(['wallet_id', 'id'])
    .execute();
}
