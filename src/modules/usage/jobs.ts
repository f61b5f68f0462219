import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';
import type { LogRetention, PurgeResult } from './retention.js';

export const PURGE_LOGS_JOB = 'usage.purge-logs';
export const PURGE_LOGS_SCHEDULE = 'usage.purge-logs.hourly';

/**
 * The request-log purge as a job: hourly on a schedule (one run per hour across every instance), and once when
 * a server starts. Cancelling it stops after the batch in progress.
 */
export function registerRetentionJobs(
  jobs: JobQueue,
  retention: LogRetention,
  log: BackgroundLogTarget,
  /** Re-read the settings first (a worker process has no other reason to). */
  refreshSettings: () => Promise<unknown>,
): void {
  jobs.define<null, PurgeResult>({
    type: PURGE_LOGS_JOB,
    attempts: 3,
    backoff: { baseMs: 60_000, maxMs: 600_000 },
    handler: async ({ signal }) => {
      try {
        await refreshSettings();
        const result = await retention.purge(signal);
        if (result.cutoff !== null) {
          if (result.deleted > 0)
            log.info({ deleted: result.deleted, before: result.cutoff }, `purged ${result.deleted} request log rows`);
          else log.debug({ before: result.cutoff }, 'no request log rows to purge');
        }
        return result;
      } catch (error) {
        log.error({ err: error }, 'request log purge failed');
        throw error;
      }
    },
  });
  jobs.schedule({ name: PURGE_LOGS_SCHEDULE, type: PURGE_LOGS_JOB, cron: '0 * * * *' });
}
