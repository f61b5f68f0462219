import { type Kysely, type Selectable, sql } from 'kysely';
import type { ResponseOwner } from '../../gateway/index.js';
import type { Database, ResponsesTable } from '../../infra/db/schema.js';

export type ResponseRow = Selectable<ResponsesTable>;

/** Stored responses: every read and delete is scoped to the owner (organization and key). */
export class ResponsesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Insert a response, or replace the state of one already kept (a background run that finished). */
  async upsert(row: ResponsesTable): Promise<void> {
    await this.db
      .insertInto('responses')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          status: row.status,
          response: row.response,
          channel_id: row.channel_id,
          provider_key_id: row.provider_key_id,
          native: row.native,
          // A write that knows no job (the run's own answer) keeps the one already recorded.
          job_id: row.job_id ?? sql<string | null>`responses.job_id`,
        }),
      )
      .execute();
  }

  async setJob(id: string, jobId: string): Promise<void> {
    await this.db.updateTable('responses').set({ job_id: jobId }).where('id', '=', id).execute();
  }

  /** The owner's response `id` created at or after `since`. */
  async find(owner: ResponseOwner, id: string, since: number): Promise<ResponseRow | undefined> {
    let query = this.db.selectFrom('responses').selectAll().where('id', '=', id).where('created_at', '>=', since);
    query = owner.orgId === null ? query.where('org_id', 'is', null) : query.where('org_id', '=', owner.orgId);
    query = owner.keyId === null ? query.where('key_id', 'is', null) : query.where('key_id', '=', owner.keyId);
    const row = await query.executeTakeFirst();
    return row ? { ...row, created_at: Number(row.created_at), native: Number(row.native) } : undefined;
  }

  async delete(owner: ResponseOwner, id: string): Promise<boolean> {
    let query = this.db.deleteFrom('responses').where('id', '=', id);
    query = owner.orgId === null ? query.where('org_id', 'is', null) : query.where('org_id', '=', owner.orgId);
    query = owner.keyId === null ? query.where('key_id', 'is', null) : query.where('key_id', '=', owner.keyId);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Delete responses created before `cutoff` (retention); returns how many went. */
  async deleteOlderThan(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('responses').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
