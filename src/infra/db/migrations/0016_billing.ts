import { type Kysely, sql } from 'kysely';

/**
 * The money layer: one wallet per organization (its billing mode, low-balance thresholds and the cached sum
 * of its ledger), the append-only ledger itself, redemption-code batches, codes and their uses, and the list
 * price (what the customer pays) beside the cost price on every request row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('wallets')
    .addColumn('org_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
    .addColumn('balance_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('billing_mode', 'text', (c) => c.notNull().defaultTo('postpaid'))
    .addColumn('low_balance_thresholds', 'text')
    .addColumn('low_balance_notified_micros', 'bigint')
    .addColumn('low_balance_webhook_url', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('wallet_transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    .addColumn('balance_after_micros', 'bigint', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.unique())
    .addColumn('reason', 'text')
    .addColumn('actor', 'text')
    .addColumn('detail', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('wallet_transactions_org_idx')
    .on('wallet_transactions')
    .columns(['org_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('redemption_batches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    .addColumn('code_count', 'integer', (c) => c.notNull())
    .addColumn('max_uses', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('redemption_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('batch_id', 'text', (c) => c.notNull().references('redemption_batches.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('redemption_codes_batch_idx').on('redemption_codes').column('batch_id').execute();

  await db.schema
    .createTable('redemption_uses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('code_id', 'text', (c) => c.notNull().references('redemption_codes.id').onDelete('cascade'))
    .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('user_id', 'text')
    .addColumn('transaction_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('redemption_uses_code_org_uq', ['code_id', 'org_id'])
    .execute();

  await db.schema
    .alterTable('request_logs')
    .addColumn('price_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // Rows before this migration were priced at cost (no multiplier applied yet).
  await sql`update request_logs set price_micros = cost_micros`.execute(db);
}
