/**
 * Stripe top-ups: a Checkout session (payment mode) within the admin's bounds, credited only by the verified
 * webhook (signature over the raw body, tolerance), once per payment whatever is replayed, duplicated or
 * delivered concurrently; bad signatures, unknown customers and other currencies credit nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, type ErrorBody, uniqueEmail } from '../support/accounts.js';
import { register } from '../support/app.js';
import { adjust, defaultOrg, expectLedgerConsistent, type Transaction, walletOf } from '../support/billing.js';
import { ENGINES } from '../support/databases.js';
import { SECRET_KEY } from '../support/fakes/stripe.js';
import { HELLO_COST, MASTER } from '../support/limits.js';
import { asMaster, checkout, pay, type StripeApp, startStripeApp } from '../support/stripe.js';

describe.each(ENGINES)('Stripe top-ups (%s)', (engine) => {
  let app: StripeApp;
  let orgId: string;
  beforeAll(async () => {
    app = await startStripeApp({ engine });
    orgId = await defaultOrg(app.call);
  }, 60_000);
  afterAll(async () => app?.close());
  afterEach(async () => expectLedgerConsistent(app));

  const ledger = async () =>
    (await app.call<{ data: Transaction[] }>('GET', '/api/billing/transactions?limit=500', asMaster(orgId))).body.data;
  const balance = async () => (await walletOf(app, orgId)).balanceMicros;
  /** A paid session's checkout.session.completed event, as Stripe sends it. */
  const paidSessionEvent = (session: { sessionId: string }, overrides: Record<string, unknown> = {}) => {
    const stored = app.stripe.sessions.get(session.sessionId) as Record<string, unknown>;
    const { _subscription_metadata: _m, _price_id: _p, ...wire } = stored;
    return app.stripe.event('checkout.session.completed', {
      ...wire,
      status: 'complete',
      payment_status: 'paid',
      payment_intent: `pi_${Math.random().toString(36).slice(2)}`,
      ...overrides,
    });
  };

  it('says payments are configured, in the instance currency, with the top-up bounds', async () => {
    const res = await app.call('GET', '/api/billing/payments', asMaster(orgId));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      configured: true,
      currency: 'USD',
      topUpMinMicros: 1_000_000,
      topUpMaxMicros: 1_000_000_000,
    });
  });

  it('creates a Checkout session through the SDK and credits nothing until Stripe confirms payment', async () => {
    const before = await balance();
    const session = await checkout(app, orgId, 20_000_000);
    expect(session.url).toBe(`${app.stripe.url}/pay/${session.sessionId}`);
    const customers = app.stripe.calls.filter((c) => c.path === '/v1/customers');
    expect(customers).toHaveLength(1);
    expect(customers[0]?.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(customers[0]?.params.metadata).toEqual({ aihub_org_id: orgId });
    const created = app.stripe.calls.find((c) => c.path === '/v1/checkout/sessions');
    expect(created?.params).toMatchObject({
      mode: 'payment',
      client_reference_id: orgId,
      success_url: 'https://hub.example/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://hub.example/billing?checkout=cancelled',
      line_items: [{ quantity: '1', price_data: { currency: 'usd', unit_amount: '2000' } }],
      metadata: { aihub_org_id: orgId, aihub_kind: 'top_up', aihub_amount_micros: '20000000' },
    });
    expect(await balance()).toBe(before);

    // Paying on Checkout: the signed webhook credits the balance, then the customer is sent back.
    expect(await pay(session.url)).toBe(`https://hub.example/billing?checkout=success&session_id=${session.sessionId}`);
    expect(await balance()).toBe(before + 20_000_000);
    const [entry] = await ledger();
    expect(entry).toMatchObject({ kind: 'top_up', amountMicros: 20_000_000, reason: 'Stripe top-up' });
    expect(entry?.reference).toMatch(/^stripe:payment:pi_/);

    // A second top-up reuses the organization's customer.
    await checkout(app, orgId, 5_000_000);
    expect(app.stripe.calls.filter((c) => c.path === '/v1/customers')).toHaveLength(1);
    expect((await auditRows(app.t, { action: 'billing.stripe.top_up' })).length).toBeGreaterThanOrEqual(1);
  });

  it('tells the returning customer where the session stands: open, processing until the webhook, credited', async () => {
    const before = await balance();
    const session = await checkout(app, orgId, 6_000_000);
    const status = (sessionId: string, org = orgId) =>
      app.call<{ status: string; amountMicros: number | null; transactionId: string | null }>(
        'GET',
        `/api/billing/stripe/checkout/${sessionId}`,
        asMaster(org),
      );
    expect((await status(session.sessionId)).body).toMatchObject({ status: 'open', amountMicros: null });

    // Stripe sends the customer back before its webhook arrives: paid, not credited yet.
    app.stripe.webhookDelayMs = 60_000;
    const stored = app.stripe.sessions.get(session.sessionId) as Record<string, unknown>;
    const event = paidSessionEvent(session);
    try {
      Object.assign(stored, {
        status: 'complete',
        payment_status: 'paid',
        payment_intent: (event.data as { object: { payment_intent: string } }).object.payment_intent,
      });
      expect((await status(session.sessionId)).body).toMatchObject({ status: 'processing', transactionId: null });
      expect(await balance()).toBe(before);
    } finally {
      app.stripe.webhookDelayMs = undefined;
    }
    expect((await app.stripe.deliver(event)).status).toBe(200);
    const credited = await status(session.sessionId);
    expect(credited.status).toBe(200);
    expect(credited.body).toMatchObject({ status: 'credited', amountMicros: 6_000_000 });
    expect((await ledger()).find((e) => e.id === credited.body.transactionId)?.kind).toBe('top_up');
    expect(await balance()).toBe(before + 6_000_000);

    // Another organization's session, or one Stripe does not know: not found.
    const other = await app.call<{ id: string }>('POST', '/api/organizations', {
      token: MASTER,
      body: { name: `Elsewhere ${Date.now()}` },
    });
    expect(other.status).toBe(201);
    expect((await status(session.sessionId, other.body.id)).status).toBe(404);
    expect((await status('cs_test_nosuchsession')).status).toBe(404);
  });

  it('credits a payment once: a replayed event, its payment_intent.succeeded, and concurrent deliveries', async () => {
    const before = await balance();
    const session = await checkout(app, orgId, 3_000_000);
    const event = paidSessionEvent(session);
    const first = await app.stripe.deliver(event);
    expect(first).toMatchObject({ status: 200, body: { received: true, outcome: 'credited' } });
    const replay = await app.stripe.deliver(event);
    expect(replay).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });
    const object = (event.data as { object: Record<string, unknown> }).object;
    const intent = await app.stripe.deliver(
      app.stripe.event('payment_intent.succeeded', {
        id: object.payment_intent,
        object: 'payment_intent',
        amount: 300,
        amount_received: 300,
        currency: 'usd',
        customer: object.customer,
        metadata: { aihub_org_id: orgId, aihub_kind: 'top_up', aihub_amount_micros: '3000000' },
        status: 'succeeded',
      }),
    );
    expect(intent.status).toBe(200);
    expect(await balance()).toBe(before + 3_000_000);

    // Twenty deliveries of one new event at once (Stripe retrying while the first is in flight).
    const burst = paidSessionEvent(await checkout(app, orgId, 4_000_000));
    const results = await Promise.all(Array.from({ length: 20 }, () => app.stripe.deliver(burst)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await balance()).toBe(before + 7_000_000);
  });

  it('refuses a bad signature with 400, credits nothing and audits it', async () => {
    const before = await balance();
    const event = paidSessionEvent(await checkout(app, orgId, 2_000_000));
    const payload = JSON.stringify(event);
    const cases = [
      app.stripe.sign(payload, { secret: 'whsec_somebodyelse' }),
      app.stripe.sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
      app.stripe.sign(JSON.stringify({ ...event, id: 'evt_other' })),
      't=123,v1=deadbeef',
    ];
    for (const signature of cases) {
      const res = await app.stripe.deliver(event, { signature });
      expect(res.status, signature).toBe(400);
      expect((res.body as unknown as ErrorBody).error.code).toBe('invalid_signature');
    }
    const unsigned = await fetch(app.stripe.webhookUrl as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload,
    });
    expect(unsigned.status).toBe(400);
    expect(await balance()).toBe(before);
    const rejected = await auditRows(app.t, { action: 'billing.stripe.webhook_rejected' });
    expect(rejected.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(rejected)).not.toContain('whsec_');
  });

  it('answers 200 to an unknown customer and to another currency, crediting nothing (logged)', async () => {
    const before = await balance();
    const session = await checkout(app, orgId, 2_000_000);
    const stranger = await app.stripe.deliver(paidSessionEvent(session, { customer: 'cus_nobody' }));
    expect(stranger).toMatchObject({ status: 200, body: { outcome: 'unknown_customer' } });
    const euros = await app.stripe.deliver(paidSessionEvent(session, { currency: 'eur' }));
    expect(euros).toMatchObject({ status: 200, body: { outcome: 'currency_mismatch' } });
    expect(await balance()).toBe(before);
    expect(await auditRows(app.t, { action: 'billing.stripe.unknown_customer' })).not.toHaveLength(0);
    const mismatch = await auditRows(
      app.t,
      { action: 'billing.stripe.currency_mismatch' },
      { orgId, instanceWide: false },
    );
    expect(mismatch[0]?.detail).toMatchObject({ currency: 'eur', instanceCurrency: 'USD' });
    // An unpaid (async) session completes without money yet.
    const unpaid = await app.stripe.deliver(paidSessionEvent(session, { payment_status: 'unpaid' }));
    expect(unpaid.body.outcome).toBe('awaiting_payment');
    expect(await balance()).toBe(before);
  });

  it('refuses zero, negative, too small, too large and sub-cent amounts, naming the field', async () => {
    for (const amountMicros of [0, -5_000_000, 999_999, 1_000_000_001, 12_345_678]) {
      const res = await app.call<ErrorBody>('POST', '/api/billing/stripe/checkout', {
        ...asMaster(orgId),
        body: { amountMicros },
      });
      expect(res.status, String(amountMicros)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('amountMicros');
    }
    const text = await app.call<ErrorBody>('POST', '/api/billing/stripe/checkout', {
      ...asMaster(orgId),
      body: { amountMicros: 'ten' },
    });
    expect(text.status).toBe(400);
    // The admin's bounds move the limits.
    const bounds = await app.call('PATCH', '/api/admin/billing/stripe', {
      token: MASTER,
      body: { topUpMinMicros: 500_000, topUpMaxMicros: 2_000_000 },
    });
    expect(bounds.status, JSON.stringify(bounds.body)).toBe(200);
    const over = await app.call<ErrorBody>('POST', '/api/billing/stripe/checkout', {
      ...asMaster(orgId),
      body: { amountMicros: 3_000_000 },
    });
    expect(over.status).toBe(400);
    await checkout(app, orgId, 500_000);
    await app.call('PATCH', '/api/admin/billing/stripe', {
      token: MASTER,
      body: { topUpMinMicros: 1_000_000, topUpMaxMicros: 1_000_000_000 },
    });
  });

  it('lets billing managers pay and refuses developers; the webhook needs no token', async () => {
    const manager = await register(app.call, uniqueEmail('billing'));
    const developer = await register(app.call, uniqueEmail('dev'));
    for (const [who, role] of [
      [manager, 'billing_manager'],
      [developer, 'developer'],
    ] as const) {
      // Registered accounts join the Default organization; give each its role there.
      const set = await app.call('PATCH', `/api/org/members/${who.userId}`, { ...asMaster(orgId), body: { role } });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
    }
    const as = (token: string) => ({
      token,
      headers: { 'x-aihub-organization': orgId },
      body: { amountMicros: 2_000_000 },
    });
    const ok = await app.call('POST', '/api/billing/stripe/checkout', as(manager.token));
    expect(ok.status).toBe(201);
    const refused = await app.call<ErrorBody>('POST', '/api/billing/stripe/checkout', as(developer.token));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('billing.manage');
    const anonymous = await app.call('POST', '/api/billing/stripe/checkout', { body: { amountMicros: 2_000_000 } });
    expect(anonymous.status).toBe(401);
  });

  it('keeps a prepaid balance from going negative beyond one request while a top-up lands amid heavy usage', async () => {
    await app.call('PATCH', `/api/admin/organizations/${orgId}/billing`, {
      token: MASTER,
      body: { billingMode: 'prepaid' },
    });
    const start = await balance();
    // Spend down to a little above zero, then race usage against a top-up.
    if (start > HELLO_COST * 5) await adjust(app, orgId, -(start - HELLO_COST * 5));
    const { secret } = await app.newKey();
    const session = await checkout(app, orgId, 1_000_000);
    const event = paidSessionEvent(session);
    const [results, delivered] = await Promise.all([
      Promise.all(Array.from({ length: 40 }, () => app.chat(secret))),
      app.stripe.deliver(event),
    ]);
    expect(delivered.status).toBe(200);
    expect(results.every((r) => r.status === 200 || r.status === 402)).toBe(true);
    const ok = results.filter((r) => r.status === 200).length;
    const after = await balance();
    expect(after).toBe(HELLO_COST * 5 + 1_000_000 - ok * HELLO_COST);
    expect(after).toBeGreaterThan(-HELLO_COST);
    await app.call('PATCH', `/api/admin/organizations/${orgId}/billing`, {
      token: MASTER,
      body: { billingMode: 'postpaid' },
    });
  });
});

describe.each(ENGINES)('Stripe not configured (%s)', (engine) => {
  let app: StripeApp;
  let orgId: string;
  beforeAll(async () => {
    app = await startStripeApp({ engine, configured: false });
    orgId = await defaultOrg(app.call);
  }, 60_000);
  afterAll(async () => app?.close());
  afterEach(async () => expectLedgerConsistent(app));

  it('says payments are not configured; codes and manual top-ups still work', async () => {
    const status = await app.call('GET', '/api/billing/payments', asMaster(orgId));
    expect(status.body.configured).toBe(false);
    for (const [path, body] of [
      ['/api/billing/stripe/checkout', { amountMicros: 5_000_000 }],
      ['/api/billing/stripe/subscribe', { planId: 'pln_x' }],
      ['/api/billing/stripe/portal', undefined],
    ] as const) {
      const res = await app.call<ErrorBody>('POST', path, { ...asMaster(orgId), body });
      expect(res.status, path).toBe(503);
      expect(res.body.error.code).toBe('payments_not_configured');
    }
    const hook = await app.stripe.deliver(app.stripe.event('checkout.session.completed', {}));
    expect(hook.status).toBe(503);
    expect(app.stripe.calls).toEqual([]);
    const manual = await adjust(app, orgId, 7_000_000);
    expect(manual.status).toBe(201);
    expect((await walletOf(app, orgId)).balanceMicros).toBe(7_000_000);
  });

  it('takes keys from the console, stores them encrypted and never shows them', async () => {
    const bad = await app.call<ErrorBody>('PATCH', '/api/admin/billing/stripe', {
      token: MASTER,
      body: { secretKey: 'not-a-key' },
    });
    expect(bad.status).toBe(400);
    const set = await app.call('PATCH', '/api/admin/billing/stripe', {
      token: MASTER,
      body: { secretKey: SECRET_KEY, webhookSecret: 'whsec_localfake0123456789' },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ configured: true, secretKeySource: 'console', webhookSecretSource: 'console' });
    expect(JSON.stringify(set.body)).not.toContain('sk_test');
    const stored = await app.t.database.handle.db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', 'stripe_payments')
      .executeTakeFirstOrThrow();
    expect(stored.value).not.toContain(SECRET_KEY);
    expect(JSON.stringify(await auditRows(app.t, { action: 'billing.stripe.configure' }))).not.toContain('sk_test');
    const session = await checkout(app, orgId, 2_000_000);
    expect(session.url).toContain(app.stripe.url);
    await app.call('PATCH', '/api/admin/billing/stripe', {
      token: MASTER,
      body: { secretKey: null, webhookSecret: null },
    });
    expect((await app.call('GET', '/api/billing/payments', asMaster(orgId))).body.configured).toBe(false);
  });
});
