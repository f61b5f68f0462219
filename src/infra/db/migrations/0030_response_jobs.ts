import type { Kysely } from 'kysely';

/**
 * Background responses (`background: true`) run as jobs: a stored response keeps the id of the job that runs
 * it, so `POST /v1/responses/{id}/cancel` cancels that job (on whichever instance runs it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('responses').addColumn('job_id', 'text').execute();
}
