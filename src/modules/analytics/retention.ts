import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../infra/db/schema.js';
import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';
import { GRAINS, NARROW_TABLES } from './rollup.js';

/** Days of minute rollups kept (ranges up to 6 hours read them; older ranges read hours). */
export const MINUTE_RETENTION_DAYS = 3;
/** Days of hour rollups kept (ranges up to 31 days read them; older ranges read days). Day rows stay forever. */
export const HOUR_RETENTION_DAYS = 90;

export const PRUNE_JOB = 'analytics.prune';
export const PRUNE_SCHEDULE = 'analytics.prune.hourly';

/** Rows deleted per statement, so one SQLite write stays short. */
const BATCH = 5_000;

export interface PruneResult {
  minute: number;
  hour: number;
}

/** Delete minute and hour rollups (wide and narrow) older than their retention; day rollups are never deleted. */
export async function pruneRollups(db: Kysely<Database>, now: number, signal?: AbortSignal): Promise<PruneResult> {
  const result: PruneResult = { minute: 0, hour: 0 };
  for (const [grain, days] of [
    ['minute', MINUTE_RETENTION_DAYS],
    ['hour', HOUR_RETENTION_DAYS],
  ] as const) {
    const cutoff = now - days * GRAINS.day.ms;
    for (const table of [GRAINS[grain].table, NARROW_TABLES[grain]])
      while (!signal?.aborted) {
        // Whole buckets at a time (the oldest first), so a bucket is never half deleted.
        const oldest = await db
          .selectFrom(table)
          .select('bucket')
          .where('bucket', '<', cutoff)
          .orderBy('bucket')
          .limit(1)
          .executeTakeFirst();
        if (!oldest) break;
        const upTo = Math.min(cutoff, Number(oldest.bucket) + BATCH * GRAINS[grain].ms);
        const deleted = await db.deleteFrom(table).where('bucket', '<', upTo).executeTakeFirst();
        result[grain] += Number(deleted.numDeletedRows);
        await new Promise((resolve) => setImmediate(resolve));
      }
  }
  return result;
}

/** The prune as a job, hourly across every instance. */
export function registerAnalyticsJobs(
  jobs: JobQueue,
  db: Kysely<Database>,
  clock: Clock,
  log: BackgroundLogTarget,
): void {
  jobs.define<null, PruneResult>({
    type: PRUNE_JOB,
    attempts: 3,
    backoff: { baseMs: 60_000, maxMs: 600_000 },
    handler: async ({ signal }) => {
      try {
        const result = await pruneRollups(db, clock.now(), signal);
        if (result.minute + result.hour > 0) log.info({ ...result }, 'pruned analytics rollups');
        return result;
      } catch (error) {
        log.error({ err: error }, 'analytics rollup prune failed');
        throw error;
      }
    },
  });
  jobs.schedule({ name: PRUNE_SCHEDULE, type: PRUNE_JOB, cron: '17 * * * *' });
}
