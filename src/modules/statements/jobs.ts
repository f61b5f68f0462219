import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';
import type { RunResult, StatementService } from './service.js';

export const STATEMENTS_JOB = 'billing.statements';
export const STATEMENTS_SCHEDULE = 'billing.statements.monthly';

export interface StatementRunPayload {
  period?: string;
  orgId?: string;
  actor?: string | null;
}

/**
 * The statement run as a job: monthly on a schedule (the 1st, 02:00 UTC, for the month before) and on an
 * admin's "issue now". A run is idempotent per organization, team and period, so a retried or repeated run
 * issues nothing twice.
 */
export function registerStatementJobs(
  jobs: JobQueue,
  statements: StatementService,
  log: BackgroundLogTarget,
  /** Re-read the settings first (a worker process has no other reason to). */
  refreshSettings: () => Promise<unknown>,
): void {
  jobs.define<StatementRunPayload | null, RunResult>({
    type: STATEMENTS_JOB,
    attempts: 3,
    backoff: { baseMs: 60_000, maxMs: 600_000 },
    handler: async ({ payload }) => {
      try {
        await refreshSettings();
        const result = await statements.run({ ...(payload ?? {}) });
        if (result.issued.length > 0)
          log.info(
            { period: result.period, issued: result.issued.length },
            `issued ${result.issued.length} statements`,
          );
        return result;
      } catch (error) {
        log.error({ err: error }, 'statement run failed');
        throw error;
      }
    },
  });
  jobs.schedule({ name: STATEMENTS_SCHEDULE, type: STATEMENTS_JOB, cron: '0 2 1 * *' });
}
