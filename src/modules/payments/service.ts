import type Stripe from 'stripe';
import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { BillingPlansTable, OrgSubscriptionsTable, StripeInvoicesTable } from '../../infra/db/schema.js';
import type { PaymentsConfigStore } from './config.js';
import { toStripeAmount } from './money.js';
import type { PaymentsRepository } from './repository.js';

/** A plan as the API shows it. */
export interface PlanView {
  id: string;
  name: string;
  description: string | null;
  interval: 'month' | 'year';
  priceMicros: number;
  currency: string;
  stripePriceId: string;
  includedCreditsMicros: number;
  tokenQuota: number | null;
  allowedModels: string[] | null;
  channelGroups: string[] | null;
  status: 'active' | 'archived';
  createdAt: number;
}

export interface PlanInput {
  name: string;
  description?: string | null | undefined;
  interval: 'month' | 'year';
  priceMicros: number;
  /** An existing Stripe price (recurring, same amount and currency); none: a product and price are created. */
  stripePriceId?: string | undefined;
  includedCreditsMicros?: number | undefined;
  tokenQuota?: number | null | undefined;
  allowedModels?: string[] | null | undefined;
  channelGroups?: string[] | null | undefined;
}

export interface PlanPatch {
  name?: string | undefined;
  description?: string | null | undefined;
  includedCreditsMicros?: number | undefined;
  tokenQuota?: number | null | undefined;
  allowedModels?: string[] | null | undefined;
  channelGroups?: string[] | null | undefined;
  status?: 'active' | 'archived' | undefined;
}

export interface SubscriptionView {
  plan: PlanView | null;
  status: string;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  graceUntil: number | null;
}

export interface StripeInvoiceView {
  id: string;
  orgId: string;
  subscriptionId: string | null;
  number: string | null;
  status: string;
  amountMicros: number;
  currency: string;
  hostedInvoiceUrl: string | null;
  periodStart: number | null;
  periodEnd: number | null;
  createdAt: number;
}

/** What the portal shows before a payment: whether payments work and the top-up bounds. */
export interface PaymentsStatus {
  configured: boolean;
  currency: string;
  topUpMinMicros: number;
  topUpMaxMicros: number;
}

export interface PaymentsServiceDeps {
  repo: PaymentsRepository;
  config: PaymentsConfigStore;
  clock: Clock;
  newId: IdGenerator;
  currency: () => string;
  /** The ledger entry written under an external reference, if any (a top-up credited by its webhook). */
  ledgerEntry?: (reference: string) => Promise<{ id: string; amountMicros: number } | undefined>;
}

/** Where a top-up's Checkout session stands, as the console polls it on the way back from Stripe. */
export interface CheckoutStatusView {
  sessionId: string;
  /**
   * `open`: not paid (yet); `processing`: paid, Stripe's webhook not received yet; `credited`: on the
   * balance; `expired`: abandoned.
   */
  status: 'open' | 'processing' | 'credited' | 'expired';
  amountMicros: number | null;
  transactionId: string | null;
}

/** Where Checkout and the Customer Portal send the customer back to (the console's billing page). */
export interface ReturnUrls {
  success: string;
  cancel: string;
}

/**
 * Payments through Stripe: the organization's Stripe customer, Checkout sessions for top-ups and
 * subscriptions, the Customer Portal, and the plans admins offer. Money moves only on verified webhooks
 * (webhook.ts), never on the customer's return to the success URL.
 */
export class PaymentsService {
  constructor(private readonly deps: PaymentsServiceDeps) {}

  async status(): Promise<PaymentsStatus> {
    const view = await this.deps.config.view();
    return {
      configured: view.configured,
      currency: this.deps.currency(),
      topUpMinMicros: view.topUpMinMicros,
      topUpMaxMicros: view.topUpMaxMicros,
    };
  }

  /** The organization's Stripe customer, created on first use (tagged with the organization's id). */
  private async customer(stripe: Stripe, orgId: string, orgName: string): Promise<string> {
    const known = await this.deps.repo.customerOf(orgId);
    if (known) return known;
    const created = await stripe.customers.create(
      { name: orgName, metadata: { aihub_org_id: orgId } },
      { idempotencyKey: `aihub-customer-${orgId}` },
    );
    if (!(await this.deps.repo.insertCustomer(orgId, created.id, this.deps.clock.now())))
      return (await this.deps.repo.customerOf(orgId)) ?? created.id;
    return created.id;
  }

  /** A Checkout session (payment mode) for a top-up of `amountMicros`, within the admin's bounds. */
  async topUpCheckout(
    org: { id: string; name: string },
    amountMicros: number,
    urls: ReturnUrls,
  ): Promise<{ url: string; sessionId: string }> {
    const { stripe, config } = await this.deps.config.client();
    const currency = this.deps.currency();
    if (!Number.isSafeInteger(amountMicros) || amountMicros <= 0)
      throw new ApiError('validation_failed', 'body.amountMicros must be a positive integer of micro-units', {
        param: 'amountMicros',
      });
    if (amountMicros < config.topUpMinMicros || amountMicros > config.topUpMaxMicros)
      throw new ApiError(
        'validation_failed',
        `body.amountMicros must be between ${config.topUpMinMicros} and ${config.topUpMaxMicros} (the top-up bounds)`,
        { param: 'amountMicros' },
      );
    const unitAmount = toStripeAmount(amountMicros, currency);
    if (unitAmount === undefined)
      throw new ApiError(
        'validation_failed',
        `body.amountMicros must be a whole number of ${currency}'s smallest unit`,
        {
          param: 'amountMicros',
        },
      );
    const customer = await this.customer(stripe, org.id, org.name);
    const metadata = { aihub_org_id: org.id, aihub_kind: 'top_up', aihub_amount_micros: String(amountMicros) };
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      customer,
      client_reference_id: org.id,
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: currency.toLowerCase(),
            unit_amount: unitAmount,
            product_data: { name: 'AI Hub credit' },
          },
        },
      ],
      metadata,
      payment_intent_data: { metadata },
      success_url: urls.success,
      cancel_url: urls.cancel,
    });
    if (!session.url) throw new ApiError('upstream_error', 'Stripe returned a Checkout session without a URL');
    return { url: session.url, sessionId: session.id };
  }

  /**
   * Where a top-up's Checkout session stands. Stripe sends the customer back to the success URL and the
   * webhook separately, in either order; the console polls this until the webhook credited the payment. A
   * session of another organization is not found.
   */
  async checkoutStatus(orgId: string, sessionId: string): Promise<CheckoutStatusView> {
    const { stripe } = await this.deps.config.client();
    let session: Stripe.Checkout.Session;
    try {
      session = await stripe.checkout.sessions.retrieve(sessionId);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) throw notFound('Checkout session');
      throw error;
    }
    if (session.metadata?.aihub_org_id !== orgId || session.mode !== 'payment') throw notFound('Checkout session');
    const intent = session.payment_intent;
    const paymentId = (typeof intent === 'string' ? intent : intent?.id) ?? session.id;
    const entry =
      session.payment_status === 'paid' ? await this.deps.ledgerEntry?.(`stripe:payment:${paymentId}`) : undefined;
    const status: CheckoutStatusView['status'] = entry
      ? 'credited'
      : session.payment_status === 'paid'
        ? 'processing'
        : session.status === 'expired'
          ? 'expired'
          : 'open';
    return {
      sessionId: session.id,
      status,
      amountMicros: entry ? entry.amountMicros : null,
      transactionId: entry?.id ?? null,
    };
  }

  /** A Checkout session (subscription mode) for a plan; an organization subscribed already changes plans in the portal. */
  async subscribeCheckout(
    org: { id: string; name: string },
    planId: string,
    urls: ReturnUrls,
  ): Promise<{ url: string; sessionId: string }> {
    const { stripe } = await this.deps.config.client();
    const plan = await this.deps.repo.plan(planId);
    if (plan?.status !== 'active')
      throw new ApiError('not_found', 'No such plan (or it is no longer offered)', { param: 'planId' });
    const current = await this.deps.repo.subscriptionOf(org.id);
    if (current && LIVE_STATUSES.has(current.status))
      throw new ApiError(
        'conflict',
        'Your organization already has a subscription: change or cancel it in the billing portal (POST /api/billing/stripe/portal)',
      );
    const customer = await this.customer(stripe, org.id, org.name);
    const metadata = { aihub_org_id: org.id, aihub_plan_id: plan.id };
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer,
      client_reference_id: org.id,
      line_items: [{ price: plan.stripe_price_id, quantity: 1 }],
      metadata,
      subscription_data: { metadata },
      success_url: urls.success,
      cancel_url: urls.cancel,
    });
    if (!session.url) throw new ApiError('upstream_error', 'Stripe returned a Checkout session without a URL');
    return { url: session.url, sessionId: session.id };
  }

  /** A Customer Portal session: cards, invoices, plan changes and cancellation, hosted by Stripe. */
  async portal(org: { id: string; name: string }, returnUrl: string): Promise<{ url: string }> {
    const { stripe } = await this.deps.config.client();
    const customer = await this.customer(stripe, org.id, org.name);
    const session = await stripe.billingPortal.sessions.create({ customer, return_url: returnUrl });
    return { url: session.url };
  }

  async subscription(orgId: string): Promise<SubscriptionView | null> {
    const row = await this.deps.repo.subscriptionOf(orgId);
    if (!row) return null;
    const plan = await this.deps.repo.plan(row.plan_id);
    return subscriptionView(row, plan);
  }

  async invoices(orgId: string, limit: number): Promise<StripeInvoiceView[]> {
    return (await this.deps.repo.listInvoices(orgId, limit)).map(invoiceView);
  }

  // Plans.

  async listPlans(onlyActive: boolean): Promise<PlanView[]> {
    return (await this.deps.repo.listPlans(onlyActive)).map(planView);
  }

  /** Create a plan: with a given Stripe price (checked), or a new Stripe product and recurring price. */
  async createPlan(input: PlanInput): Promise<PlanView> {
    const { stripe } = await this.deps.config.client();
    const currency = this.deps.currency();
    const unitAmount = toStripeAmount(input.priceMicros, currency);
    if (!Number.isSafeInteger(input.priceMicros) || input.priceMicros <= 0 || unitAmount === undefined)
      throw new ApiError(
        'validation_failed',
        `body.priceMicros must be positive and a whole number of ${currency}'s smallest unit`,
        { param: 'priceMicros' },
      );
    if (input.includedCreditsMicros !== undefined && input.includedCreditsMicros < 0)
      throw new ApiError('validation_failed', 'body.includedCreditsMicros must not be negative', {
        param: 'includedCreditsMicros',
      });
    let priceId = input.stripePriceId;
    let productId: string | null = null;
    if (priceId) {
      if (await this.deps.repo.planByPrice(priceId))
        throw new ApiError('conflict', 'Another plan uses this Stripe price', { param: 'stripePriceId' });
      const price = await stripe.prices.retrieve(priceId).catch((error: unknown) => {
        throw isMissing(error)
          ? new ApiError('validation_failed', `Stripe has no price ${priceId}`, { param: 'stripePriceId' })
          : error;
      });
      if (
        price.currency.toUpperCase() !== currency ||
        price.unit_amount !== unitAmount ||
        price.recurring?.interval !== input.interval
      )
        throw new ApiError(
          'validation_failed',
          `Stripe price ${priceId} must be a recurring ${input.interval}ly price of ${unitAmount} ${currency.toLowerCase()} (smallest units)`,
          { param: 'stripePriceId' },
        );
      productId = typeof price.product === 'string' ? price.product : price.product.id;
    } else {
      const product = await stripe.products.create({ name: input.name });
      const price = await stripe.prices.create({
        product: product.id,
        currency: currency.toLowerCase(),
        unit_amount: unitAmount,
        recurring: { interval: input.interval },
      });
      priceId = price.id;
      productId = product.id;
    }
    const now = this.deps.clock.now();
    const row: BillingPlansTable = {
      id: this.deps.newId('pln'),
      name: input.name.trim(),
      description: input.description ?? null,
      interval: input.interval,
      price_micros: input.priceMicros,
      currency,
      stripe_price_id: priceId,
      stripe_product_id: productId,
      included_credits_micros: input.includedCreditsMicros ?? 0,
      token_quota: input.tokenQuota ?? null,
      allowed_models: jsonList(input.allowedModels),
      channel_groups: jsonList(input.channelGroups),
      status: 'active',
      created_at: now,
      updated_at: now,
    };
    await this.deps.repo.insertPlan(row);
    return planView(row);
  }

  /** Change what a plan grants (its price is Stripe's and fixed: make a new plan for a new price). */
  async updatePlan(id: string, patch: PlanPatch): Promise<PlanView> {
    if (!(await this.deps.repo.plan(id))) throw notFound('Plan');
    if (patch.includedCreditsMicros !== undefined && patch.includedCreditsMicros < 0)
      throw new ApiError('validation_failed', 'body.includedCreditsMicros must not be negative', {
        param: 'includedCreditsMicros',
      });
    const set: Partial<BillingPlansTable> = { updated_at: this.deps.clock.now() };
    if (patch.name !== undefined) set.name = patch.name.trim();
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.includedCreditsMicros !== undefined) set.included_credits_micros = patch.includedCreditsMicros;
    if (patch.tokenQuota !== undefined) set.token_quota = patch.tokenQuota;
    if (patch.allowedModels !== undefined) set.allowed_models = jsonList(patch.allowedModels);
    if (patch.channelGroups !== undefined) set.channel_groups = jsonList(patch.channelGroups);
    if (patch.status !== undefined) set.status = patch.status;
    await this.deps.repo.updatePlan(id, set);
    const plan = await this.deps.repo.plan(id);
    if (!plan) throw notFound('Plan');
    return planView(plan);
  }
}

/** Subscription statuses that hold a plan (a second subscription is refused while one is in them). */
export const LIVE_STATUSES = new Set(['active', 'trialing', 'past_due', 'incomplete']);

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: number }).statusCode === 404;
}

const jsonList = (list: string[] | null | undefined) =>
  list === undefined || list === null ? null : JSON.stringify([...new Set(list)]);
const parseList = (json: string | null) => (json === null ? null : (JSON.parse(json) as string[]));

export function planView(p: BillingPlansTable): PlanView {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    interval: p.interval,
    priceMicros: Number(p.price_micros),
    currency: p.currency,
    stripePriceId: p.stripe_price_id,
    includedCreditsMicros: Number(p.included_credits_micros),
    tokenQuota: p.token_quota === null ? null : Number(p.token_quota),
    allowedModels: parseList(p.allowed_models),
    channelGroups: parseList(p.channel_groups),
    status: p.status,
    createdAt: Number(p.created_at),
  };
}

export function subscriptionView(row: OrgSubscriptionsTable, plan: BillingPlansTable | undefined): SubscriptionView {
  return {
    plan: plan ? planView(plan) : null,
    status: row.status,
    currentPeriodEnd: row.current_period_end === null ? null : Number(row.current_period_end),
    cancelAtPeriodEnd: Number(row.cancel_at_period_end) === 1,
    graceUntil: row.grace_until === null ? null : Number(row.grace_until),
  };
}

function invoiceView(i: StripeInvoicesTable): StripeInvoiceView {
  return {
    id: i.id,
    orgId: i.org_id,
    subscriptionId: i.subscription_id,
    number: i.number,
    status: i.status,
    amountMicros: Number(i.amount_micros),
    currency: i.currency,
    hostedInvoiceUrl: i.hosted_invoice_url,
    periodStart: i.period_start === null ? null : Number(i.period_start),
    periodEnd: i.period_end === null ? null : Number(i.period_end),
    createdAt: Number(i.created_at),
  };
}
