import type { Kysely } from 'kysely';
import type { BatchesTable, Database } from '../../infra/db/schema.js';
import type { FileOwner } from '../files/repository.js';

/** Data access for batches and their finished lines. Reads by API callers are scoped to the owner. */
export class BatchesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: BatchesTable): Promise<void> {
    await this.db.insertInto('batches').values(row).execute();
  }

  find(owner: FileOwner, id: string): Promise<BatchesTable | undefined> {
    let query = this.db.selectFrom('batches').selectAll().where('id', '=', id).where('org_id', '=', owner.orgId);
    query = owner.userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', owner.userId);
    return query.executeTakeFirst();
  }

  /** A batch by id, for its job (which runs it for its owner). */
  findForJob(id: string): Promise<BatchesTable | undefined> {
    return this.db.selectFrom('batches').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async statusOf(id: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('batches').select('status').where('id', '=', id).executeTakeFirst();
    return row?.status;
  }

  list(owner: FileOwner, page: { limit: number; after?: string | undefined }): Promise<BatchesTable[]> {
    let query = this.db.selectFrom('batches').selectAll().where('org_id', '=', owner.orgId);
    query = owner.userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', owner.userId);
    if (page.after !== undefined) query = query.where('id', '<', page.after);
    return query.orderBy('id', 'desc').limit(page.limit).execute();
  }

  async update(id: string, patch: Partial<Omit<BatchesTable, 'id'>>): Promise<void> {
    await this.db.updateTable('batches').set(patch).where('id', '=', id).execute();
  }

  /** Move a batch from one of `from` to `to` (false when it was in none of them). */
  async transition(id: string, from: string[], patch: Partial<Omit<BatchesTable, 'id'>>): Promise<boolean> {
    const result = await this.db
      .updateTable('batches')
      .set(patch)
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Record a finished line (its checkpoint); a line already recorded is left as it was. */
  async recordLine(batchId: string, line: number, ok: boolean, body: string): Promise<void> {
    await this.db
      .insertInto('batch_results')
      .values({ batch_id: batchId, line, ok: ok ? 1 : 0, body })
      .onConflict((c) => c.columns(['batch_id', 'line']).doNothing())
      .execute();
  }

  /** Line numbers already finished, and how many of them succeeded and failed. */
  async finishedLines(batchId: string): Promise<{ lines: Set<number>; completed: number; failed: number }> {
    const rows = await this.db
      .selectFrom('batch_results')
      .select(['line', 'ok'])
      .where('batch_id', '=', batchId)
      .execute();
    let completed = 0;
    for (const row of rows) if (Number(row.ok) === 1) completed++;
    return { lines: new Set(rows.map((r) => Number(r.line))), completed, failed: rows.length - completed };
  }

  /** Finished lines' bodies of one kind, in line order, a page at a time. */
  async *results(batchId: string, ok: boolean, pageSize = 500): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('batch_results')
        .select(['line', 'body'])
        .where('batch_id', '=', batchId)
        .where('ok', '=', ok ? 1 : 0)
        .where('line', '>', after)
        .orderBy('line')
        .limit(pageSize)
        .execute();
      for (const row of rows) yield row.body;
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]?.line);
    }
  }

  async dropResults(batchId: string): Promise<void> {
    await this.db.deleteFrom('batch_results').where('batch_id', '=', batchId).execute();
  }
}
