import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { BackoffPolicy, JobQueue } from '../../jobs/types.js';
import type { AlertEvaluator } from './evaluator.js';
import type { AlertsService } from './service.js';

export const EVALUATE_JOB = 'alerts.evaluate';
export const EVALUATE_SCHEDULE = 'alerts.evaluate.minutely';
export const DELIVER_JOB = 'alerts.deliver';

/** Deliveries: 8 attempts over about 10 minutes (5 s, 10 s, … capped at 5 minutes, with jitter). */
export const DELIVERY_ATTEMPTS = 8;
export const DELIVERY_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 300_000 };

export interface DeliverPayload {
  eventId: string;
  destinationId: string;
}

/**
 * The alert jobs: `alerts.evaluate` every minute (cron's finest step; one run per minute across every
 * instance), and `alerts.deliver`, one job per event × destination, retried with backoff.
 */
export function registerAlertJobs(
  jobs: JobQueue,
  evaluator: AlertEvaluator,
  alerts: AlertsService,
  log: BackgroundLogTarget,
): void {
  jobs.define<null, { events: number }>({
    type: EVALUATE_JOB,
    // A round that fails is simply the next minute's to do.
    attempts: 1,
    timeoutMs: 50_000,
    handler: async () => {
      try {
        const events = await evaluator.evaluate();
        for (const e of events) log.info({ rule: e.rule_id, subject: e.subject, state: e.state }, e.message);
        return { events: events.length };
      } catch (error) {
        log.error({ err: error }, 'evaluating the alert rules failed');
        throw error;
      }
    },
  });
  jobs.define<DeliverPayload, { result: string }>({
    type: DELIVER_JOB,
    attempts: DELIVERY_ATTEMPTS,
    backoff: DELIVERY_BACKOFF,
    concurrency: 4,
    timeoutMs: 60_000,
    handler: async ({ payload, attempt }) => {
      try {
        return { result: await alerts.deliverEvent(payload.eventId, payload.destinationId) };
      } catch (error) {
        log.error(
          { err: error instanceof Error ? error.message : String(error), ...payload, attempt },
          'delivering an alert failed; it is retried',
        );
        throw error;
      }
    },
  });
  jobs.schedule({ name: EVALUATE_SCHEDULE, type: EVALUATE_JOB, cron: '* * * * *' });
}
