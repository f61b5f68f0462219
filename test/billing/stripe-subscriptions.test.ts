/**
 * Stripe subscriptions: plans made by platform admins (Stripe product and price created through the API, or an
 * existing price checked), Checkout in subscription mode, each paid invoice granting the plan's credits once,
 * the plan's model access and token quota while subscribed, a failed payment's grace period ended by the
 * downgrade job, cancellation and plan changes from Stripe's events, the Customer Portal, and Stripe invoices
 * listed for their own organization only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DOWNGRADE_LAPSED_JOB, DOWNGRADE_LAPSED_SCHEDULE } from '../../src/modules/payments/jobs.js';
import { auditRows, type ErrorBody } from '../support/accounts.js';
import { defaultOrg, expectLedgerConsistent, type Transaction, walletOf } from '../support/billing.js';
import { ENGINES } from '../support/databases.js';
import { eventually, MASTER } from '../support/limits.js';
import { asMaster, pay, type StripeApp, startStripeApp } from '../support/stripe.js';

interface Plan {
  id: string;
  name: string;
  interval: 'month' | 'year';
  priceMicros: number;
  stripePriceId: string;
  includedCreditsMicros: number;
  tokenQuota: number | null;
  allowedModels: string[] | null;
  status: string;
}
interface Subscription {
  plan: Plan | null;
  status: string;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  graceUntil: number | null;
}
const DAY = 86_400_000;

describe.each(ENGINES)('Stripe subscriptions (%s)', (engine) => {
  let app: StripeApp;
  let orgId: string;
  let otherOrg: string;
  let pro: Plan;
  let team: Plan;
  beforeAll(async () => {
    app = await startStripeApp({ engine, env: { AIHUB_JOBS_POLL_MS: '20' } });
    orgId = await defaultOrg(app.call);
    const other = await app.call<{ id: string }>('POST', '/api/organizations', {
      token: MASTER,
      body: { name: 'Other Co' },
    });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    otherOrg = other.body.id;
  }, 60_000);
  afterAll(async () => app?.close());
  afterEach(async () => expectLedgerConsistent(app));

  const subscription = async (org = orgId) =>
    (await app.call<{ subscription: Subscription | null }>('GET', '/api/billing/subscription', asMaster(org))).body
      .subscription;
  const org = async () => (await app.call<{ allowedModels: string[] | null }>('GET', '/api/org', asMaster(orgId))).body;
  const ledger = async () =>
    (await app.call<{ data: Transaction[] }>('GET', '/api/billing/transactions?limit=500', asMaster(orgId))).body.data;
  const stripeSub = () => {
    const row = [...app.stripe.subscriptions.values()].at(-1) as Record<string, unknown>;
    return row;
  };

  it('lets platform admins create plans: a new Stripe product and price, or an existing price checked', async () => {
    const created = await app.call<Plan>('POST', '/api/admin/billing/plans', {
      token: MASTER,
      body: {
        name: 'Pro',
        interval: 'month',
        priceMicros: 20_000_000,
        includedCreditsMicros: 10_000_000,
        tokenQuota: 1_000_000,
        allowedModels: ['mock-*'],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    pro = created.body;
    expect(pro).toMatchObject({ currency: 'USD', status: 'active', allowedModels: ['mock-*'], tokenQuota: 1_000_000 });
    const priceCall = app.stripe.calls.find((c) => c.path === '/v1/prices');
    expect(priceCall?.params).toMatchObject({ currency: 'usd', unit_amount: '2000', recurring: { interval: 'month' } });
    expect(pro.stripePriceId).toBe([...app.stripe.prices.values()].find((p) => p.unit_amount === 2000)?.id);

    // An existing price: accepted when it matches; refused when it does not or does not exist.
    app.stripe.prices.set('price_existingTeam', {
      id: 'price_existingTeam',
      object: 'price',
      currency: 'usd',
      unit_amount: 50000,
      product: 'prod_existing',
      recurring: { interval: 'year', interval_count: 1 },
      type: 'recurring',
    });
    const bad = await app.call<ErrorBody>('POST', '/api/admin/billing/plans', {
      token: MASTER,
      body: { name: 'Team', interval: 'month', priceMicros: 500_000_000, stripePriceId: 'price_existingTeam' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('price_existingTeam');
    const unknown = await app.call<ErrorBody>('POST', '/api/admin/billing/plans', {
      token: MASTER,
      body: { name: 'Team', interval: 'year', priceMicros: 500_000_000, stripePriceId: 'price_nothere' },
    });
    expect(unknown.status).toBe(400);
    const ok = await app.call<Plan>('POST', '/api/admin/billing/plans', {
      token: MASTER,
      body: {
        name: 'Team',
        interval: 'year',
        priceMicros: 500_000_000,
        stripePriceId: 'price_existingTeam',
        includedCreditsMicros: 100_000_000,
      },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    team = ok.body;
    for (const body of [
      { name: 'Zero', interval: 'month', priceMicros: 0 },
      { name: 'Sub-cent', interval: 'month', priceMicros: 1_234 },
      { name: 'Weekly', interval: 'week', priceMicros: 1_000_000 },
    ]) {
      const res = await app.call('POST', '/api/admin/billing/plans', { token: MASTER, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    // An organization's owner offers no plans.
    const listed = await app.call<{ data: Plan[] }>('GET', '/api/billing/plans', asMaster(orgId));
    expect(listed.body.data.map((p) => p.name)).toEqual(['Pro', 'Team']);
  });

  it('subscribes through Checkout: access while subscribed, credits per paid invoice, the invoice listed', async () => {
    const missing = await app.call<ErrorBody>('POST', '/api/billing/stripe/subscribe', {
      ...asMaster(orgId),
      body: { planId: 'pln_nothere' },
    });
    expect(missing.status).toBe(404);
    const before = (await walletOf(app, orgId)).balanceMicros;
    const session = await app.call<{ url: string; sessionId: string }>('POST', '/api/billing/stripe/subscribe', {
      ...asMaster(orgId),
      body: { planId: pro.id },
    });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    const created = app.stripe.calls.filter((c) => c.path === '/v1/checkout/sessions').at(-1);
    expect(created?.params).toMatchObject({
      mode: 'subscription',
      line_items: [{ price: pro.stripePriceId, quantity: '1' }],
      subscription_data: { metadata: { aihub_org_id: orgId, aihub_plan_id: pro.id } },
    });
    await pay(session.body.url);

    const sub = await subscription();
    expect(sub).toMatchObject({ status: 'active', cancelAtPeriodEnd: false, graceUntil: null });
    expect(sub?.plan?.id).toBe(pro.id);
    expect(sub?.currentPeriodEnd).toBeGreaterThan(Date.now());
    expect((await walletOf(app, orgId)).balanceMicros).toBe(before + 10_000_000);
    expect((await ledger())[0]).toMatchObject({ kind: 'subscription_grant', amountMicros: 10_000_000 });
    expect((await org()).allowedModels).toEqual(['mock-*']);
    const limits = await app.call<{ limits: { tokenQuota: number; tokenQuotaPeriod: string } }>(
      'GET',
      `/api/admin/limits/org/${orgId}`,
      { token: MASTER },
    );
    expect(limits.body.limits).toMatchObject({ tokenQuota: 1_000_000, tokenQuotaPeriod: 'month' });

    const invoices = await app.call<{ data: Array<Record<string, unknown>> }>(
      'GET',
      '/api/billing/stripe-invoices',
      asMaster(orgId),
    );
    expect(invoices.body.data).toHaveLength(1);
    expect(invoices.body.data[0]).toMatchObject({
      orgId,
      status: 'paid',
      amountMicros: 20_000_000,
      currency: 'USD',
      subscriptionId: stripeSub().id,
    });
    expect(invoices.body.data[0]?.hostedInvoiceUrl).toMatch(/^https:\/\/invoice\.stripe\.com\//);
    // Another organization sees none of it.
    expect(
      (await app.call<{ data: unknown[] }>('GET', '/api/billing/stripe-invoices', asMaster(otherOrg))).body.data,
    ).toEqual([]);
    expect(await subscription(otherOrg)).toBeNull();

    // A second subscription is refused while this one holds: plan changes go through the portal.
    const again = await app.call<ErrorBody>('POST', '/api/billing/stripe/subscribe', {
      ...asMaster(orgId),
      body: { planId: team.id },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('portal');
  });

  it('grants each renewal once, however often its invoice.paid is delivered', async () => {
    const before = (await walletOf(app, orgId)).balanceMicros;
    const sub = stripeSub();
    const invoice = app.stripe.invoice({
      customer: sub.customer as string,
      subscription: sub.id as string,
      billing_reason: 'subscription_cycle',
    });
    const event = app.stripe.event('invoice.paid', invoice);
    expect((await app.stripe.deliver(event)).body.outcome).toBe('granted');
    expect((await app.stripe.deliver(event)).body.outcome).toBe('duplicate');
    // The same invoice in a second event (Stripe sends invoice.paid once per invoice; a copy must not pay twice).
    await app.stripe.deliver(app.stripe.event('invoice.paid', invoice));
    expect((await walletOf(app, orgId)).balanceMicros).toBe(before + 10_000_000);
  });

  it('keeps the plan through the grace period after a failed payment, then the job downgrades', async () => {
    const sub = stripeSub();
    const failed = app.stripe.invoice({
      customer: sub.customer as string,
      subscription: sub.id as string,
      status: 'open',
      amount_paid: 0,
      billing_reason: 'subscription_cycle',
    });
    const res = await app.stripe.deliver(app.stripe.event('invoice.payment_failed', failed));
    expect(res.body.outcome).toBe('grace_started');
    const now = app.clock.now();
    expect(await subscription()).toMatchObject({ status: 'past_due', graceUntil: now + 3 * DAY });
    expect((await org()).allowedModels).toEqual(['mock-*']);

    await app.t.services.jobs.start({ workers: true });
    const schedules = await app.t.services.jobs.schedules();
    expect(schedules.map((s) => s.name)).toContain(DOWNGRADE_LAPSED_SCHEDULE);
    // Run by hand here: the hourly schedule would race the clock jumps below.
    await app.t.services.jobs.setScheduleEnabled(DOWNGRADE_LAPSED_SCHEDULE, false);
    const runJob = async () => {
      const job = await app.t.services.jobs.enqueue(DOWNGRADE_LAPSED_JOB, null);
      const done = await eventually(
        () => app.t.services.jobs.get(job.id),
        (record) => record?.state === 'succeeded',
        10_000,
      );
      expect(done?.state).toBe('succeeded');
      return done?.result as { downgraded: number };
    };
    expect(await runJob()).toEqual({ downgraded: 0 });
    app.clock.advance(3 * DAY + 1);
    expect(await runJob()).toEqual({ downgraded: 1 });
    expect((await subscription())?.status).toBe('downgraded');
    expect((await org()).allowedModels).toBeNull();
    const limits = await app.call<{ limits: { tokenQuota: number | null } }>('GET', `/api/admin/limits/org/${orgId}`, {
      token: MASTER,
    });
    expect(limits.body.limits.tokenQuota).toBeNull();
    expect(await auditRows(app.t, { action: 'billing.stripe.downgrade' })).toHaveLength(1);

    // Paying at last brings the plan back.
    const paid = app.stripe.invoice({ customer: sub.customer as string, subscription: sub.id as string });
    expect((await app.stripe.deliver(app.stripe.event('invoice.paid', paid))).body.outcome).toBe('granted');
    expect(await subscription()).toMatchObject({ status: 'active', graceUntil: null });
    expect((await org()).allowedModels).toEqual(['mock-*']);
  });

  it("follows Stripe's subscription updates: cancel at period end, a plan change, the end", async () => {
    const sub = stripeSub();
    const cancelling = { ...sub, cancel_at_period_end: true };
    app.stripe.subscriptions.set(sub.id as string, cancelling);
    await app.stripe.deliver(app.stripe.event('customer.subscription.updated', cancelling));
    expect(await subscription()).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });

    // Switched to Team in the portal: its price, its access (no model list: the organization's own).
    const items = sub.items as { data: Array<Record<string, unknown>> };
    const switched = {
      ...sub,
      cancel_at_period_end: false,
      items: { ...items, data: [{ ...items.data[0], price: app.stripe.prices.get(team.stripePriceId) }] },
    };
    await app.stripe.deliver(app.stripe.event('customer.subscription.updated', switched));
    expect((await subscription())?.plan?.id).toBe(team.id);
    expect((await org()).allowedModels).toBeNull();

    const ended = { ...switched, status: 'canceled' };
    const res = await app.stripe.deliver(app.stripe.event('customer.subscription.deleted', ended));
    expect(res.body.outcome).toBe('downgraded');
    expect((await subscription())?.status).toBe('canceled');
    // A subscription of a price no plan uses is logged and acknowledged.
    const stray = {
      ...switched,
      id: 'sub_stray',
      metadata: {},
      items: { ...items, data: [{ ...items.data[0], price: { id: 'price_stray' } }] },
    };
    expect((await app.stripe.deliver(app.stripe.event('customer.subscription.updated', stray))).body.outcome).toBe(
      'unknown_plan',
    );
  });

  it("opens Stripe's Customer Portal for the organization's customer", async () => {
    const portal = await app.call<{ url: string }>('POST', '/api/billing/stripe/portal', asMaster(orgId));
    expect(portal.status).toBe(201);
    expect(portal.body.url).toContain(`${app.stripe.url}/portal/bps_`);
    const call = app.stripe.calls.filter((c) => c.path === '/v1/billing_portal/sessions').at(-1);
    expect(call?.params).toMatchObject({ customer: stripeSub().customer, return_url: 'https://hub.example/billing' });
  });

  it('archives a plan: no longer offered, no longer subscribable; plan routes are platform-only', async () => {
    const archived = await app.call<Plan>('PATCH', `/api/admin/billing/plans/${team.id}`, {
      token: MASTER,
      body: { status: 'archived' },
    });
    expect(archived.body.status).toBe('archived');
    const offered = await app.call<{ data: Plan[] }>('GET', '/api/billing/plans', asMaster(otherOrg));
    expect(offered.body.data.map((p) => p.id)).toEqual([pro.id]);
    const refused = await app.call('POST', '/api/billing/stripe/subscribe', {
      ...asMaster(otherOrg),
      body: { planId: team.id },
    });
    expect(refused.status).toBe(404);
    const all = await app.call<{ data: Plan[] }>('GET', '/api/admin/billing/plans', { token: MASTER });
    expect(all.body.data).toHaveLength(2);
    const unknown = await app.call('PATCH', '/api/admin/billing/plans/pln_nothere', {
      token: MASTER,
      body: { name: 'x' },
    });
    expect(unknown.status).toBe(404);
  });
});
