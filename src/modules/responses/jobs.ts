import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';
import type { ResponsesStore } from './service.js';

export const PURGE_RESPONSES_JOB = 'responses.purge';
export const PURGE_RESPONSES_SCHEDULE = 'responses.purge.hourly';

/**
 * Stored Responses-API responses past their retention (`responsesRetentionDays`) are deleted by a job: hourly on a
 * schedule (one run per hour across every instance). Expired ones are already unknown to the API before this.
 */
export function registerResponsesJobs(
  jobs: JobQueue,
  store: ResponsesStore,
  log: BackgroundLogTarget,
  refreshSettings: () => Promise<unknown>,
): void {
  jobs.define<null, { deleted: number }>({
    type: PURGE_RESPONSES_JOB,
    attempts: 3,
    backoff: { baseMs: 60_000, maxMs: 600_000 },
    handler: async () => {
      await refreshSettings();
      const deleted = await store.purge();
      if (deleted > 0) log.info({ deleted }, `purged ${deleted} stored responses past their retention`);
      return { deleted };
    },
  });
  jobs.schedule({ name: PURGE_RESPONSES_SCHEDULE, type: PURGE_RESPONSES_JOB, cron: '30 * * * *' });
}
