import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Engine } from '../../infra/db/client.js';
import type { Database, JobSchedulesTable, JobsTable } from '../../infra/db/schema.js';
import type { JobQuery } from '../types.js';

export type JobRow = Selectable<JobsTable>;
type Db = Kysely<Database> | Transaction<Database>;

/** What a new job row needs; the rest has defaults. */
export type NewJob = Pick<
  JobsTable,
  | 'id'
  | 'type'
  | 'org_id'
  | 'user_id'
  | 'payload'
  | 'priority'
  | 'max_attempts'
  | 'timeout_ms'
  | 'run_at'
  | 'schedule_name'
  | 'unique_key'
  | 'created_at'
>;

/**
 * Data access of the embedded queue: every statement that changes a job's state checks the state it expects
 * (and, for a running job, the worker holding it), so a worker whose lease was taken back cannot overwrite
 * what the next one did.
 */
export class JobStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
  ) {}

  /** Insert a job (with its parents); a job with the same unique key is returned instead when one exists. */
  async insert(job: NewJob, parents: string[]): Promise<{ row: JobRow; created: boolean }> {
    // The common case, one statement: no parents to look at, no unique key to look for.
    if (parents.length === 0 && !job.unique_key) {
      const row = await this.db
        .insertInto('jobs')
        .values(newRow(job, 'queued', null))
        .returningAll()
        .executeTakeFirstOrThrow();
      return { row, created: true };
    }
    return this.db.transaction().execute(async (trx) => {
      if (job.unique_key) {
        const existing = await trx
          .selectFrom('jobs')
          .selectAll()
          .where('unique_key', '=', job.unique_key)
          .executeTakeFirst();
        if (existing) return { row: existing, created: false };
      }
      let state = 'queued';
      let error: string | null = null;
      if (parents.length > 0) {
        const states = await trx.selectFrom('jobs').select(['id', 'state']).where('id', 'in', parents).execute();
        const known = new Map(states.map((s) => [s.id, s.state]));
        const bad = parents.find((p) => known.get(p) === 'failed' || known.get(p) === 'cancelled');
        if (bad) {
          state = 'cancelled';
          error = `parent job ${bad} did not succeed`;
        } else if (parents.some((p) => known.get(p) !== 'succeeded')) state = 'waiting';
      }
      const row = newRow(job, state, error);
      const inserted = await trx
        .insertInto('jobs')
        .values(row)
        .onConflict((oc) => oc.column('unique_key').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!inserted) {
        // Another instance inserted the same unique key between our read and our insert.
        const other = await trx
          .selectFrom('jobs')
          .selectAll()
          .where('unique_key', '=', job.unique_key)
          .executeTakeFirstOrThrow();
        return { row: other, created: false };
      }
      if (parents.length > 0)
        await trx
          .insertInto('job_dependencies')
          .values([...new Set(parents)].map((parent_id) => ({ job_id: job.id, parent_id })))
          .execute();
      return { row: inserted, created: true };
    });
  }

  get(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Parents of each job. */
  async parentsOf(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    const rows = await this.db.selectFrom('job_dependencies').selectAll().where('job_id', 'in', ids).execute();
    for (const r of rows) out.set(r.job_id, [...(out.get(r.job_id) ?? []), r.parent_id]);
    return out;
  }

  async list(query: JobQuery): Promise<{ rows: JobRow[]; total: number }> {
    let q = this.db.selectFrom('jobs');
    const scope = query.scope;
    if (scope)
      q = q.where((eb) =>
        scope.instanceWide
          ? eb.or([eb('org_id', '=', scope.orgId), eb('org_id', 'is', null)])
          : eb('org_id', '=', scope.orgId),
      );
    if (query.userId) q = q.where('user_id', '=', query.userId);
    if (query.type) q = q.where('type', '=', query.type);
    if (query.state) q = q.where('state', '=', query.state);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('id', 'desc').limit(query.limit).offset(query.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /** Take up to `limit` due jobs of a type, most urgent first; each is leased to `workerId` until `leaseUntil`. */
  async claim(type: string, limit: number, now: number, workerId: string, leaseUntil: number): Promise<JobRow[]> {
    const set = sql`state = 'running', attempts = attempts + 1, worker_id = ${workerId}, lease_until = ${leaseUntil},
        started_at = ${now}, updated_at = ${now}, progress = 0, progress_message = null`;
    const pick = sql`select id from jobs where state = 'queued' and type = ${type} and run_at <= ${now}
        order by priority desc, run_at, id limit ${limit}`;
    // PostgreSQL may evaluate an `in (subquery … limit)` more than once and so claim more than `limit` rows: the
    // picked ids are materialized first, locked, skipping those another worker is claiming.
    const result =
      this.engine === 'postgres'
        ? await sql<JobRow>`with picked as materialized (${pick} for update skip locked)
            update jobs set ${set} from picked where jobs.id = picked.id and jobs.state = 'queued'
            returning jobs.*`.execute(this.db)
        : await sql<JobRow>`update jobs set ${set} where id in (${pick}) and state = 'queued' returning *`.execute(
            this.db,
          );
    return result.rows;
  }

  /** Extend the leases of this worker's running jobs; returns the ids of those asked to cancel. */
  async heartbeat(workerId: string, ids: string[], leaseUntil: number): Promise<string[]> {
    if (ids.length === 0) return [];
    await this.db
      .updateTable('jobs')
      .set({ lease_until: leaseUntil })
      .where('worker_id', '=', workerId)
      .where('state', '=', 'running')
      .where('id', 'in', ids)
      .execute();
    const cancelled = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('id', 'in', ids)
      .where((eb) =>
        eb.or([eb('cancel_requested', '=', 1), eb('state', '<>', 'running'), eb('worker_id', '<>', workerId)]),
      )
      .execute();
    return cancelled.map((r) => r.id);
  }

  async progress(id: string, workerId: string, percent: number, message: string | null, now: number): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ progress: percent, progress_message: message, updated_at: now })
      .where('id', '=', id)
      .where('worker_id', '=', workerId)
      .where('state', '=', 'running')
      .execute();
  }

  /** End a running attempt: succeeded, failed (dead letter), cancelled, or queued again at `retryAt`. */
  async finish(
    id: string,
    workerId: string,
    outcome:
      | { state: 'succeeded'; result: string | null }
      | { state: 'failed' | 'cancelled'; error: string }
      | { state: 'queued'; error: string; retryAt: number }
      | { state: 'requeued' },
    now: number,
  ): Promise<boolean> {
    const base = this.db
      .updateTable('jobs')
      .where('id', '=', id)
      .where('worker_id', '=', workerId)
      .where('state', '=', 'running');
    const free = { worker_id: null, lease_until: null, updated_at: now };
    const q =
      outcome.state === 'succeeded'
        ? base.set({
            ...free,
            state: 'succeeded',
            result: outcome.result,
            error: null,
            progress: 100,
            finished_at: now,
          })
        : outcome.state === 'queued'
          ? base.set({ ...free, state: 'queued', error: outcome.error, run_at: outcome.retryAt })
          : outcome.state === 'requeued'
            ? // Shutdown: this attempt does not count.
              base.set((eb) => ({ ...free, state: 'queued', attempts: eb('attempts', '-', 1), cancel_requested: 0 }))
            : base.set({ ...free, state: outcome.state, error: outcome.error, finished_at: now });
    const updated = Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
    const settles = outcome.state === 'succeeded' || outcome.state === 'failed' || outcome.state === 'cancelled';
    // Most jobs have no children: one statement. Should the process die between the two, `repairWaiting`
    // (run with the lease reaper) settles the children.
    if (updated && settles && (await this.hasChildren(id)))
      await this.db
        .transaction()
        .execute(async (trx) =>
          outcome.state === 'succeeded' ? releaseChildren(trx, id, now) : cancelChildren(trx, id, now),
        );
    return updated;
  }

  private async hasChildren(id: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('job_dependencies')
      .select('job_id')
      .where('parent_id', '=', id)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Waiting jobs whose parents have all finished (their parent's worker died between two statements) move on. */
  async repairWaiting(now: number): Promise<void> {
    await sql`
      update jobs set state = 'queued', run_at = ${now}, updated_at = ${now}
      where state = 'waiting' and not exists (
        select 1 from job_dependencies d join jobs p on p.id = d.parent_id
        where d.job_id = jobs.id and p.state <> 'succeeded'
      )`.execute(this.db);
    await sql`
      update jobs set state = 'cancelled', error = 'a parent job did not succeed', finished_at = ${now}, updated_at = ${now}
      where state = 'waiting' and exists (
        select 1 from job_dependencies d join jobs p on p.id = d.parent_id
        where d.job_id = jobs.id and p.state in ('failed', 'cancelled')
      )`.execute(this.db);
  }

  /** Take back running jobs whose lease passed (their worker died): queued again, or dead when out of attempts. */
  async reapExpired(now: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const expired = await trx
        .selectFrom('jobs')
        .select(['id', 'attempts', 'max_attempts', 'cancel_requested'])
        .where('state', '=', 'running')
        .where('lease_until', '<', now)
        .execute();
      for (const job of expired) {
        const dead = job.attempts >= job.max_attempts || job.cancel_requested === 1;
        const state = job.cancel_requested === 1 ? 'cancelled' : dead ? 'failed' : 'queued';
        await trx
          .updateTable('jobs')
          .set({
            state,
            worker_id: null,
            lease_until: null,
            run_at: now,
            updated_at: now,
            error: 'the worker running it stopped (lease expired)',
            finished_at: dead ? now : null,
          })
          .where('id', '=', job.id)
          .where('state', '=', 'running')
          .execute();
        if (dead) await cancelChildren(trx, job.id, now);
      }
      return expired.length;
    });
  }

  /** Cancel: at once when not running; a running job is asked to stop (`cancel_requested`). */
  async cancel(id: string, now: number): Promise<JobRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const done = await trx
        .updateTable('jobs')
        .set({ state: 'cancelled', finished_at: now, updated_at: now, error: 'cancelled' })
        .where('id', '=', id)
        .where('state', 'in', ['queued', 'waiting'])
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) === 1) await cancelChildren(trx, id, now);
      else
        await trx
          .updateTable('jobs')
          .set({ cancel_requested: 1, updated_at: now })
          .where('id', '=', id)
          .where('state', '=', 'running')
          .execute();
      return trx.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    });
  }

  /** A failed or cancelled job back in the queue, from its first attempt. */
  async retry(id: string, now: number): Promise<JobRow | undefined> {
    await this.db
      .updateTable('jobs')
      .set({
        state: 'queued',
        attempts: 0,
        error: null,
        result: null,
        progress: 0,
        progress_message: null,
        cancel_requested: 0,
        run_at: now,
        finished_at: null,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('state', 'in', ['failed', 'cancelled'])
      .execute();
    return this.get(id);
  }

  async remove(id: string): Promise<'removed' | 'running' | 'missing'> {
    const row = await this.db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirst();
    if (!row) return 'missing';
    if (row.state === 'running') return 'running';
    const done = await this.db
      .deleteFrom('jobs')
      .where('id', '=', id)
      .where('state', '<>', 'running')
      .executeTakeFirst();
    return Number(done.numDeletedRows) === 1 ? 'removed' : 'running';
  }

  /** Store a schedule declared in code: new ones enabled; a changed cron or type replaces the old. */
  async upsertSchedule(row: JobSchedulesTable): Promise<void> {
    await this.db
      .insertInto('job_schedules')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          type: row.type,
          cron: row.cron,
          payload: row.payload,
          updated_at: row.updated_at,
        }),
      )
      .execute();
  }

  /** Recompute `next_run_at` of a schedule whose cron changed (or was never right). */
  async setNextRun(name: string, nextRunAt: number, now: number): Promise<void> {
    await this.db
      .updateTable('job_schedules')
      .set({ next_run_at: nextRunAt, updated_at: now })
      .where('name', '=', name)
      .execute();
  }

  listSchedules(): Promise<Selectable<JobSchedulesTable>[]> {
    return this.db.selectFrom('job_schedules').selectAll().orderBy('name').execute();
  }

  getSchedule(name: string): Promise<Selectable<JobSchedulesTable> | undefined> {
    return this.db.selectFrom('job_schedules').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async setScheduleEnabled(name: string, enabled: boolean, nextRunAt: number, now: number): Promise<void> {
    await this.db
      .updateTable('job_schedules')
      .set({ enabled: enabled ? 1 : 0, next_run_at: nextRunAt, updated_at: now })
      .where('name', '=', name)
      .execute();
  }

  dueSchedules(now: number, names: string[]): Promise<Selectable<JobSchedulesTable>[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('job_schedules')
      .selectAll()
      .where('enabled', '=', 1)
      .where('next_run_at', '<=', now)
      .where('name', 'in', names)
      .execute();
  }

  /** Move a schedule past the tick it fired (only if no other instance did first). */
  async advanceSchedule(name: string, tick: number, next: number, now: number): Promise<void> {
    await this.db
      .updateTable('job_schedules')
      .set({ next_run_at: next, last_run_at: tick, updated_at: now })
      .where('name', '=', name)
      .where('next_run_at', '=', tick)
      .execute();
  }
}

function newRow(job: NewJob, state: string, error: string | null): JobsTable {
  return {
    ...job,
    state,
    result: null,
    error,
    attempts: 0,
    lease_until: null,
    worker_id: null,
    progress: 0,
    progress_message: null,
    cancel_requested: 0,
    started_at: null,
    finished_at: state === 'cancelled' ? job.created_at : null,
    updated_at: job.created_at,
  };
}

/** Waiting children of `parentId` whose parents have all succeeded become queued. */
async function releaseChildren(trx: Db, parentId: string, now: number): Promise<void> {
  await sql`
    update jobs set state = 'queued', run_at = ${now}, updated_at = ${now}
    where state = 'waiting'
      and id in (select job_id from job_dependencies where parent_id = ${parentId})
      and not exists (
        select 1 from job_dependencies d join jobs p on p.id = d.parent_id
        where d.job_id = jobs.id and p.state <> 'succeeded'
      )`.execute(trx);
}

/** Waiting children (and their children) of a parent that failed or was cancelled are cancelled. */
async function cancelChildren(trx: Db, parentId: string, now: number): Promise<void> {
  let parents = [parentId];
  while (parents.length > 0) {
    const children = await trx
      .updateTable('jobs')
      .set({ state: 'cancelled', error: `parent job ${parents[0]} did not succeed`, finished_at: now, updated_at: now })
      .where('state', '=', 'waiting')
      .where('id', 'in', trx.selectFrom('job_dependencies').select('job_id').where('parent_id', 'in', parents))
      .returning('id')
      .execute();
    parents = children.map((c) => c.id);
  }
}
