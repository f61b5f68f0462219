/**
 * Alerts, wired: rules over channel health, error rate and latency, budgets and balances, spend spikes and the
 * usage writer's backlog; delivered to signed webhooks, Slack-compatible webhooks and mail; once per crossing.
 */
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import type { SecretBox } from '../../core/secrets.js';
import type { Database } from '../../infra/db/schema.js';
import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';
import type { MailMessage } from '../mail/mailer.js';
import { AlertEvaluator, type AlertSources } from './evaluator.js';
import { DELIVER_JOB, registerAlertJobs } from './jobs.js';
import { AlertsRepository } from './repository.js';
import { AlertsService } from './service.js';

export interface AlertsDeps {
  db: Kysely<Database>;
  clock: Clock;
  newId: IdGenerator;
  secrets: SecretBox;
  jobs: JobQueue;
  log: BackgroundLogTarget;
  mail: (message: MailMessage) => Promise<void>;
  publicUrl: string | undefined;
  sources: Omit<AlertSources, 'instance'> & { instance?: string };
}

export interface Alerts {
  service: AlertsService;
  evaluator: AlertEvaluator;
}

export function createAlerts(deps: AlertsDeps): Alerts {
  const repo = new AlertsRepository(deps.db);
  const service = new AlertsService({
    repo,
    secrets: deps.secrets,
    clock: deps.clock,
    newId: deps.newId,
    delivery: {
      secrets: deps.secrets,
      mail: deps.mail,
      now: () => deps.clock.now(),
      publicUrl: deps.publicUrl,
    },
  });
  const evaluator = new AlertEvaluator({
    repo,
    sources: { ...deps.sources, instance: deps.sources.instance ?? hostname() },
    clock: deps.clock,
    newId: deps.newId,
    enqueueDelivery: async (eventId, destinationId) => {
      await deps.jobs.enqueue(
        DELIVER_JOB,
        { eventId, destinationId },
        { uniqueKey: `alert:${eventId}:${destinationId}` },
      );
    },
  });
  registerAlertJobs(deps.jobs, evaluator, service, deps.log);
  return { service, evaluator };
}
