/**
 * Stripe payments, wired: configuration (environment or console, secrets encrypted), Checkout for top-ups
 * and subscriptions, the Customer Portal, plans, the verified webhook and the downgrade job. Money reaches
 * the wallet only through the billing service's ledger (idempotent by reference).
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import type { SecretBox } from '../../core/secrets.js';
import type { Database } from '../../infra/db/schema.js';
import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';
import type { AuditService } from '../audit/service.js';
import type { BillingService } from '../billing/service.js';
import type { LimitsService } from '../limits/service.js';
import type { OrganizationsService } from '../organizations/service.js';
import { PlanAccessControl } from './access.js';
import { PaymentsConfigStore, type StripeEnv } from './config.js';
import { registerPaymentsJobs } from './jobs.js';
import { PaymentsRepository } from './repository.js';
import { PaymentsService } from './service.js';
import { StripeWebhooks } from './webhook.js';

export interface PaymentsDeps {
  db: Kysely<Database>;
  clock: Clock;
  newId: IdGenerator;
  secretBox: SecretBox;
  env: StripeEnv;
  billing: BillingService;
  organizations: OrganizationsService;
  limits: LimitsService;
  audit: AuditService;
  jobs: JobQueue;
  jobLog: BackgroundLogTarget;
  currency: () => string;
}

export interface Payments {
  service: PaymentsService;
  webhooks: StripeWebhooks;
  config: PaymentsConfigStore;
}

export function createPayments(deps: PaymentsDeps): Payments {
  const repo = new PaymentsRepository(deps.db);
  const config = new PaymentsConfigStore({ repo, secretBox: deps.secretBox, env: deps.env, clock: deps.clock });
  const service = new PaymentsService({
    repo,
    config,
    clock: deps.clock,
    newId: deps.newId,
    currency: deps.currency,
    ledgerEntry: (reference) => deps.billing.entryByReference(reference),
  });
  const webhooks = new StripeWebhooks({
    repo,
    config,
    billing: deps.billing,
    access: new PlanAccessControl({ organizations: deps.organizations, limits: deps.limits }),
    audit: deps.audit,
    clock: deps.clock,
    currency: deps.currency,
  });
  registerPaymentsJobs(deps.jobs, webhooks, deps.jobLog);
  return { service, webhooks, config };
}
