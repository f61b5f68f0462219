import type { Kysely } from 'kysely';

/**
 * Jobs: the embedded durable queue (src/jobs/). One row per job; `job_dependencies` holds "starts after these
 * succeed"; `job_schedules` the recurring (cron) schedules, platform-wide. `unique_key` makes one run per
 * schedule tick across every instance (the insert of a second instance hits the unique index).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.references('organizations.id').onDelete('cascade'))
    .addColumn('user_id', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer')
    .addColumn('run_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('worker_id', 'text')
    .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_message', 'text')
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('schedule_name', 'text')
    .addColumn('unique_key', 'text', (c) => c.unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The claim: queued jobs of a type that are due, most urgent first.
  await db.schema.createIndex('jobs_claim_idx').on('jobs').columns(['state', 'type', 'priority', 'run_at']).execute();
  await db.schema.createIndex('jobs_org_idx').on('jobs').columns(['org_id', 'id']).execute();
  await db.schema.createIndex('jobs_user_idx').on('jobs').columns(['user_id', 'id']).execute();

  await db.schema
    .createTable('job_dependencies')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('parent_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_dependencies_pk', ['job_id', 'parent_id'])
    .execute();
  await db.schema.createIndex('job_dependencies_parent_idx').on('job_dependencies').column('parent_id').execute();

  await db.schema
    .createTable('job_schedules')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('next_run_at', 'bigint', (c) => c.notNull())
    .addColumn('last_run_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
