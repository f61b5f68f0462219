import type Stripe from 'stripe';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { BillingPlansTable, OrgSubscriptionsTable } from '../../infra/db/schema.js';
import type { AuditService } from '../audit/service.js';
import type { BillingService } from '../billing/service.js';
import type { PlanAccess, PlanAccessControl, SavedAccess } from './access.js';
import type { PaymentsConfigStore } from './config.js';
import { fromStripeAmount, sameCurrency } from './money.js';
import type { PaymentsRepository } from './repository.js';

/** Seconds a signed webhook may be old (Stripe's default tolerance: replays of old captures are refused). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const STRIPE_ACTOR = { type: 'system' as const, id: null };
const DAY_MS = 86_400_000;
/** Statuses after which a subscription holds no plan. */
const ENDED = new Set(['canceled', 'unpaid', 'incomplete_expired']);

export interface WebhookLog {
  warn(detail: Record<string, unknown>, message: string): void;
}

export interface StripeWebhooksDeps {
  repo: PaymentsRepository;
  config: PaymentsConfigStore;
  billing: BillingService;
  access: PlanAccessControl;
  audit: AuditService;
  clock: Clock;
  currency: () => string;
}

type Outcome =
  | 'credited'
  | 'granted'
  | 'recorded'
  | 'synced'
  | 'grace_started'
  | 'downgraded'
  | 'ignored'
  | 'awaiting_payment'
  | 'unknown_customer'
  | 'unknown_plan'
  | 'currency_mismatch';

/**
 * Stripe's webhook: the signature (`Stripe-Signature`, over the raw body, within the tolerance) is verified by
 * the SDK; each event id is acted on once (`stripe_events`), and each payment or invoice credits the ledger
 * once (its reference), so duplicated, replayed or concurrent deliveries credit once. Events Stripe need not
 * send again (an unknown customer, another currency) are answered 200 and logged.
 */
export class StripeWebhooks {
  constructor(private readonly deps: StripeWebhooksDeps) {}

  async handle(
    raw: Buffer,
    signature: string | undefined,
    context: { ip: string; log: WebhookLog },
  ): Promise<{ received: true; eventId: string; outcome: string }> {
    const { stripe, config } = await this.deps.config.client();
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(
        raw,
        signature ?? '',
        config.webhookSecret as string,
        WEBHOOK_TOLERANCE_SECONDS,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : 'unverifiable';
      context.log.warn({ reason }, 'a Stripe webhook with a bad signature was refused');
      await this.deps.audit.record({
        actor: STRIPE_ACTOR,
        action: 'billing.stripe.webhook_rejected',
        targetType: 'stripe_webhook',
        ip: context.ip,
        detail: { reason, signed: signature !== undefined },
      });
      throw new ApiError('invalid_signature', 'The Stripe-Signature header does not verify this body');
    }
    if (await this.deps.repo.eventSeen(event.id)) return { received: true, eventId: event.id, outcome: 'duplicate' };
    const { outcome, orgId } = await this.dispatch(event, stripe, config.graceDays, context.log);
    await this.deps.repo.recordEvent({
      event_id: event.id,
      type: event.type,
      org_id: orgId ?? null,
      outcome,
      created_at: this.deps.clock.now(),
    });
    return { received: true, eventId: event.id, outcome };
  }

  private async dispatch(
    event: Stripe.Event,
    stripe: Stripe,
    graceDays: number,
    log: WebhookLog,
  ): Promise<{ outcome: Outcome; orgId?: string | undefined }> {
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded': {
        const session = event.data.object;
        if (session.mode === 'subscription') {
          const orgId = await this.orgOf(event, idOf(session.customer), log);
          const subscriptionId = idOf(session.subscription);
          if (!orgId || !subscriptionId) return { outcome: orgId ? 'ignored' : 'unknown_customer' };
          return { outcome: await this.sync(orgId, await stripe.subscriptions.retrieve(subscriptionId), log), orgId };
        }
        if (session.mode !== 'payment') return { outcome: 'ignored' };
        if (session.payment_status !== 'paid') return { outcome: 'awaiting_payment' };
        return this.topUp(event, {
          customer: idOf(session.customer),
          currency: session.currency,
          amount: session.amount_total,
          paymentId: idOf(session.payment_intent) ?? session.id,
          log,
        });
      }
      case 'payment_intent.succeeded': {
        const intent = event.data.object;
        if (intent.metadata?.aihub_kind !== 'top_up') return { outcome: 'ignored' };
        return this.topUp(event, {
          customer: idOf(intent.customer),
          currency: intent.currency,
          amount: intent.amount_received,
          paymentId: intent.id,
          log,
        });
      }
      case 'invoice.paid':
        return this.invoicePaid(event, event.data.object, stripe, log);
      case 'invoice.payment_failed':
        return this.invoiceFailed(event, event.data.object, graceDays, log);
      case 'customer.subscription.created':
      case 'customer.subscription.updated': {
        const sub = event.data.object;
        const orgId = await this.orgOf(event, idOf(sub.customer), log);
        if (!orgId) return { outcome: 'unknown_customer' };
        return { outcome: await this.sync(orgId, sub, log), orgId };
      }
      case 'customer.subscription.deleted': {
        const sub = event.data.object;
        const orgId = await this.orgOf(event, idOf(sub.customer), log);
        if (!orgId) return { outcome: 'unknown_customer' };
        const row = await this.deps.repo.subscriptionOf(orgId);
        if (!row || row.subscription_id !== sub.id) return { outcome: 'ignored', orgId };
        await this.downgrade(row, 'canceled', 'the subscription ended');
        return { outcome: 'downgraded', orgId };
      }
      default:
        return { outcome: 'ignored' };
    }
  }

  /** The organization paying as `customer`; an unknown one is logged (and answered 200: Stripe stops retrying). */
  private async orgOf(event: Stripe.Event, customer: string | undefined, log: WebhookLog): Promise<string | undefined> {
    const orgId = customer ? await this.deps.repo.orgOfCustomer(customer) : undefined;
    if (orgId) return orgId;
    log.warn({ eventId: event.id, type: event.type, customer }, 'a Stripe event for an unknown customer was ignored');
    await this.deps.audit.record({
      actor: STRIPE_ACTOR,
      action: 'billing.stripe.unknown_customer',
      targetType: 'stripe_event',
      targetId: event.id,
      detail: { type: event.type, customer: customer ?? null },
    });
    return undefined;
  }

  /** Refuse (log, audit, credit nothing) money in a currency other than the instance's. */
  private async currencyRefused(
    event: Stripe.Event,
    orgId: string,
    currency: string | null,
    log: WebhookLog,
  ): Promise<boolean> {
    const instance = this.deps.currency();
    if (sameCurrency(currency, instance)) return false;
    log.warn({ eventId: event.id, currency, instance }, 'a Stripe payment in another currency was not credited');
    await this.deps.audit.record({
      orgId,
      actor: STRIPE_ACTOR,
      action: 'billing.stripe.currency_mismatch',
      targetType: 'stripe_event',
      targetId: event.id,
      detail: { type: event.type, currency, instanceCurrency: instance },
    });
    return true;
  }

  private async topUp(
    event: Stripe.Event,
    payment: {
      customer: string | undefined;
      currency: string | null;
      amount: number | null;
      paymentId: string;
      log: WebhookLog;
    },
  ): Promise<{ outcome: Outcome; orgId?: string }> {
    const orgId = await this.orgOf(event, payment.customer, payment.log);
    if (!orgId) return { outcome: 'unknown_customer' };
    if (await this.currencyRefused(event, orgId, payment.currency, payment.log))
      return { outcome: 'currency_mismatch', orgId };
    if (!payment.amount || payment.amount <= 0) return { outcome: 'ignored', orgId };
    const amountMicros = fromStripeAmount(payment.amount, payment.currency as string);
    // One credit per payment, whichever of its events (session completed, payment succeeded) comes first.
    const entry = await this.deps.billing.post({
      orgId,
      kind: 'top_up',
      amountMicros,
      reference: `stripe:payment:${payment.paymentId}`,
      reason: 'Stripe top-up',
      actor: 'stripe',
      detail: { eventId: event.id, paymentId: payment.paymentId },
    });
    await this.deps.audit.record({
      orgId,
      actor: STRIPE_ACTOR,
      action: 'billing.stripe.top_up',
      targetType: 'wallet_transaction',
      targetId: entry.id,
      detail: { eventId: event.id, paymentId: payment.paymentId, amountMicros },
    });
    return { outcome: 'credited', orgId };
  }

  private async recordInvoice(orgId: string, invoice: Stripe.Invoice): Promise<string | undefined> {
    const subscriptionId = subscriptionOfInvoice(invoice);
    const now = this.deps.clock.now();
    await this.deps.repo.putInvoice({
      id: invoice.id as string,
      org_id: orgId,
      subscription_id: subscriptionId ?? null,
      number: invoice.number ?? null,
      status: invoice.status ?? 'open',
      amount_micros: fromStripeAmount(invoice.amount_due ?? 0, invoice.currency),
      currency: invoice.currency.toUpperCase(),
      hosted_invoice_url: invoice.hosted_invoice_url ?? null,
      period_start: invoice.period_start ? invoice.period_start * 1000 : null,
      period_end: invoice.period_end ? invoice.period_end * 1000 : null,
      created_at: invoice.created ? invoice.created * 1000 : now,
      updated_at: now,
    });
    return subscriptionId;
  }

  private async invoicePaid(
    event: Stripe.Event,
    invoice: Stripe.Invoice,
    stripe: Stripe,
    log: WebhookLog,
  ): Promise<{ outcome: Outcome; orgId?: string }> {
    const orgId = await this.orgOf(event, idOf(invoice.customer), log);
    if (!orgId) return { outcome: 'unknown_customer' };
    const subscriptionId = await this.recordInvoice(orgId, invoice);
    if (!subscriptionId) return { outcome: 'recorded', orgId };
    if (await this.currencyRefused(event, orgId, invoice.currency, log)) return { outcome: 'currency_mismatch', orgId };
    // The subscription as Stripe has it now (paid: active again, its new period), whatever order events came in.
    const synced = await this.sync(orgId, await stripe.subscriptions.retrieve(subscriptionId), log);
    if (synced === 'unknown_plan') return { outcome: 'unknown_plan', orgId };
    const row = await this.deps.repo.subscriptionOf(orgId);
    const plan = row ? await this.deps.repo.plan(row.plan_id) : undefined;
    const credits = plan ? Number(plan.included_credits_micros) : 0;
    if (!plan || credits <= 0) return { outcome: 'recorded', orgId };
    const entry = await this.deps.billing.post({
      orgId,
      kind: 'subscription_grant',
      amountMicros: credits,
      reference: `stripe:invoice:${invoice.id}`,
      reason: `${plan.name}: credits of the period`,
      actor: 'stripe',
      detail: { eventId: event.id, invoiceId: invoice.id, planId: plan.id },
    });
    await this.deps.audit.record({
      orgId,
      actor: STRIPE_ACTOR,
      action: 'billing.stripe.subscription_grant',
      targetType: 'wallet_transaction',
      targetId: entry.id,
      detail: { eventId: event.id, invoiceId: invoice.id, planId: plan.id, amountMicros: credits },
    });
    return { outcome: 'granted', orgId };
  }

  private async invoiceFailed(
    event: Stripe.Event,
    invoice: Stripe.Invoice,
    graceDays: number,
    log: WebhookLog,
  ): Promise<{ outcome: Outcome; orgId?: string }> {
    const orgId = await this.orgOf(event, idOf(invoice.customer), log);
    if (!orgId) return { outcome: 'unknown_customer' };
    const subscriptionId = await this.recordInvoice(orgId, invoice);
    const row = await this.deps.repo.subscriptionOf(orgId);
    if (!row || row.subscription_id !== subscriptionId || ENDED.has(row.status) || row.status === 'downgraded')
      return { outcome: 'recorded', orgId };
    const now = this.deps.clock.now();
    const graceUntil = row.grace_until === null ? now + graceDays * DAY_MS : Number(row.grace_until);
    await this.deps.repo.updateSubscription(orgId, { status: 'past_due', grace_until: graceUntil, updated_at: now });
    await this.deps.audit.record({
      orgId,
      actor: STRIPE_ACTOR,
      action: 'billing.stripe.payment_failed',
      targetType: 'subscription',
      targetId: row.subscription_id,
      detail: { eventId: event.id, invoiceId: invoice.id, graceUntil },
    });
    return { outcome: 'grace_started', orgId };
  }

  /**
   * Bring the organization's subscription in line with Stripe's: its plan's access applied (the organization's
   * own saved first, to restore when it ends), status, period end and cancel-at-period-end recorded.
   */
  private async sync(orgId: string, sub: Stripe.Subscription, log: WebhookLog): Promise<Outcome> {
    const priceId = sub.items.data[0]?.price.id;
    const plan =
      (priceId ? await this.deps.repo.planByPrice(priceId) : undefined) ??
      (sub.metadata?.aihub_plan_id ? await this.deps.repo.plan(sub.metadata.aihub_plan_id) : undefined);
    if (!plan) {
      log.warn({ subscription: sub.id, priceId }, 'a Stripe subscription of no known plan was ignored');
      return 'unknown_plan';
    }
    const existing = await this.deps.repo.subscriptionOf(orgId);
    if (ENDED.has(sub.status)) {
      if (existing && existing.subscription_id === sub.id) await this.downgrade(existing, 'canceled', sub.status);
      return 'downgraded';
    }
    const now = this.deps.clock.now();
    const holding = existing && existing.status !== 'downgraded' && !ENDED.has(existing.status);
    let previous: SavedAccess;
    if (holding && existing.previous_access) {
      previous = JSON.parse(existing.previous_access) as SavedAccess;
      if (existing.plan_id !== plan.id) {
        const old = await this.deps.repo.plan(existing.plan_id);
        if (old) await this.deps.access.restore(orgId, previous, accessOf(old));
        await this.deps.access.apply(orgId, accessOf(plan));
      }
    } else {
      previous = await this.deps.access.snapshot(orgId);
      await this.deps.access.apply(orgId, accessOf(plan));
    }
    const paid = sub.status === 'active' || sub.status === 'trialing';
    const row: OrgSubscriptionsTable = {
      org_id: orgId,
      plan_id: plan.id,
      subscription_id: sub.id,
      status: sub.status,
      current_period_end: periodEnd(sub),
      cancel_at_period_end: sub.cancel_at_period_end ? 1 : 0,
      grace_until: paid ? null : (existing?.grace_until ?? null),
      previous_access: JSON.stringify(previous),
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    await this.deps.repo.putSubscription(row);
    return 'synced';
  }

  /** End an organization's plan: its own access back, the subscription marked `status`. */
  async downgrade(row: OrgSubscriptionsTable, status: 'canceled' | 'downgraded', why: string): Promise<void> {
    const plan = await this.deps.repo.plan(row.plan_id);
    const holding = row.status !== 'downgraded' && !ENDED.has(row.status);
    if (holding && plan && row.previous_access)
      await this.deps.access.restore(row.org_id, JSON.parse(row.previous_access) as SavedAccess, accessOf(plan));
    await this.deps.repo.updateSubscription(row.org_id, {
      status,
      grace_until: null,
      updated_at: this.deps.clock.now(),
    });
    await this.deps.audit.record({
      orgId: row.org_id,
      actor: STRIPE_ACTOR,
      action: 'billing.stripe.downgrade',
      targetType: 'subscription',
      targetId: row.subscription_id,
      detail: { planId: row.plan_id, status, why },
    });
  }

  /** Downgrade every subscription whose grace period after a failed payment is over (the hourly job). */
  async downgradeLapsed(): Promise<number> {
    const lapsed = await this.deps.repo.lapsed(this.deps.clock.now());
    for (const row of lapsed) await this.downgrade(row, 'downgraded', 'the grace period after a failed payment ended');
    return lapsed.length;
  }
}

function accessOf(plan: BillingPlansTable): PlanAccess {
  return {
    allowedModels: plan.allowed_models === null ? null : (JSON.parse(plan.allowed_models) as string[]),
    channelGroups: plan.channel_groups === null ? null : (JSON.parse(plan.channel_groups) as string[]),
    tokenQuota: plan.token_quota === null ? null : Number(plan.token_quota),
  };
}

/** An expandable Stripe field's id (a string, or the expanded object's id). */
function idOf(field: string | { id: string } | null | undefined): string | undefined {
  if (!field) return undefined;
  return typeof field === 'string' ? field : field.id;
}

/** The subscription an invoice bills (`parent.subscription_details` since API 2025-03-31). */
function subscriptionOfInvoice(invoice: Stripe.Invoice): string | undefined {
  const details = invoice.parent?.subscription_details;
  return idOf(details?.subscription as string | { id: string } | null | undefined);
}

/** The end of the subscription's current period, ms (on its items since API 2025-03-31). */
function periodEnd(sub: Stripe.Subscription): number | null {
  const ends = sub.items.data.map((item) => item.current_period_end).filter((n) => typeof n === 'number');
  return ends.length > 0 ? Math.max(...ends) * 1000 : null;
}
