import type { Kysely } from 'kysely';

/**
 * The OpenAI Files and Batch APIs, and exports. `files`: uploaded and produced files (their bytes live in the
 * BlobStore, not here). `batches`: one row per batch in OpenAI's object shape, with its job's checkpoint.
 * `batch_results`: one row per finished line (its output or error line, kept until the batch's files are
 * written): the row is the checkpoint, so a resumed batch skips every line that has one. `request_logs.batch_id`
 * tags the usage rows of batch lines; `models.batch_discount_percent` is the optional batch discount.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('lines', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();
  await db.schema.createIndex('files_org_created_idx').on('files').columns(['org_id', 'created_at']).execute();

  await db.schema
    .createTable('batches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('job_id', 'text')
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('input_file_id', 'text', (c) => c.notNull())
    .addColumn('output_file_id', 'text')
    .addColumn('error_file_id', 'text')
    .addColumn('completion_window', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('completed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('metadata', 'text')
    .addColumn('errors', 'text')
    .addColumn('client_ip', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('in_progress_at', 'bigint')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('finalizing_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('expired_at', 'bigint')
    .addColumn('cancelling_at', 'bigint')
    .addColumn('cancelled_at', 'bigint')
    .execute();
  await db.schema.createIndex('batches_org_created_idx').on('batches').columns(['org_id', 'created_at']).execute();

  await db.schema
    .createTable('batch_results')
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('batch_results_pk', ['batch_id', 'line'])
    .execute();

  await db.schema.alterTable('request_logs').addColumn('batch_id', 'text').execute();
  await db.schema
    .alterTable('models')
    .addColumn('batch_discount_percent', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
