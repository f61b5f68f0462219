import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';
import type { StripeWebhooks } from './webhook.js';

export const DOWNGRADE_LAPSED_JOB = 'payments.downgrade-lapsed';
export const DOWNGRADE_LAPSED_SCHEDULE = 'payments.downgrade-lapsed.hourly';

/**
 * After a failed renewal an organization keeps its plan for the grace period; this job (hourly, one run across
 * every instance) ends the plans whose grace period is over: the organization's own access comes back.
 */
export function registerPaymentsJobs(jobs: JobQueue, webhooks: StripeWebhooks, log: BackgroundLogTarget): void {
  jobs.define<null, { downgraded: number }>({
    type: DOWNGRADE_LAPSED_JOB,
    attempts: 3,
    backoff: { baseMs: 60_000, maxMs: 600_000 },
    handler: async () => {
      const downgraded = await webhooks.downgradeLapsed();
      if (downgraded > 0) log.info({ downgraded }, `downgraded ${downgraded} subscriptions whose grace period ended`);
      return { downgraded };
    },
  });
  jobs.schedule({ name: DOWNGRADE_LAPSED_SCHEDULE, type: DOWNGRADE_LAPSED_JOB, cron: '15 * * * *' });
}
