/**
 * Redemption codes and the billing API's bad input: batches (create, CSV export, disable), redemption by an
 * organization (atomic: 200 concurrent attempts credit once), every attempt audited, failures throttled, and
 * clear 4xx for zero/negative/too large amounts, unknown/disabled/expired/used-up codes, missing reasons and
 * callers without the permission.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../support/accounts.js';
import { register } from '../support/app.js';
import {
  adjust,
  type Batch,
  createBatch,
  defaultOrg,
  expectLedgerConsistent,
  type Transaction,
  walletOf,
} from '../support/billing.js';
import { ENGINES } from '../support/databases.js';
import { type LimitsApp, MASTER, START, startLimitsApp, uniqueEmail } from '../support/limits.js';

describe.each(ENGINES)('redemption codes and billing API (%s)', (engine) => {
  let app: LimitsApp;
  let orgId: string;
  const inOrg = () => ({ token: MASTER, headers: { 'x-aihub-organization': orgId } });
  beforeAll(async () => {
    app = await startLimitsApp({ engine, backend: 'memory' });
    orgId = await defaultOrg(app.call);
  }, 60_000);
  afterAll(async () => app?.close());
  afterEach(async () => expectLedgerConsistent(app));

  const redeem = (code: string, options: { token?: string; ip?: string } = {}) =>
    app.call<Transaction & ErrorBody>('POST', '/api/billing/redeem', {
      token: options.token ?? MASTER,
      headers: { 'x-aihub-organization': orgId, 'x-forwarded-for': options.ip ?? '203.0.113.7' },
      body: { code },
    });

  it('generates a batch, exports it as CSV, credits a redemption once, and lists it in the ledger', async () => {
    const before = (await walletOf(app, orgId)).balanceMicros;
    const { batch, codes } = await createBatch(app, { name: 'launch', prefix: 'gift', amountMicros: 5_000, count: 3 });
    expect(batch).toMatchObject({ name: 'launch', prefix: 'GIFT', amountMicros: 5_000, count: 3, maxUses: 1 });
    expect(codes).toHaveLength(3);
    expect(new Set(codes).size).toBe(3);
    for (const code of codes) expect(code).toMatch(/^GIFT-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);

    const csv = await fetch(`${app.t.url}/api/admin/billing/redemption-batches/${batch.id}/codes.csv`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('code,amount_micros,uses,max_uses,expires_at,status');
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual([...codes].sort());

    // Codes are matched whatever their case and surrounding spaces.
    const done = await redeem(`  ${(codes[0] as string).toLowerCase()} `);
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect(done.body).toMatchObject({ kind: 'redemption', amountMicros: 5_000, balanceAfterMicros: before + 5_000 });
    expect((await walletOf(app, orgId)).balanceMicros).toBe(before + 5_000);
    const again = await redeem(codes[0] as string);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_redeemed');

    const list = await app.call<{ data: Batch[] }>('GET', '/api/admin/billing/redemption-batches', { token: MASTER });
    expect(list.body.data.find((b) => b.id === batch.id)).toMatchObject({ redeemed: 1, status: 'active' });
    const ledger = await app.call<{ data: Transaction[] }>('GET', '/api/billing/transactions', inOrg());
    expect(ledger.body.data[0]).toMatchObject({ id: done.body.id, kind: 'redemption' });
  });

  it('credits a code once under 200 concurrent redemptions', async () => {
    const { codes } = await createBatch(app, { amountMicros: 7_000 });
    // Its own organization: the 199 failures block this caller's further attempts (the throttle).
    const crowd = await app.call<{ id: string }>('POST', '/api/organizations', {
      token: MASTER,
      body: { name: 'Crowd', slug: `crowd-${engine}` },
    });
    const code = codes[0] as string;
    // Different addresses, so the per-IP throttle does not decide the outcome.
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        app.call('POST', '/api/billing/redeem', {
          token: MASTER,
          headers: { 'x-aihub-organization': crowd.body.id, 'x-forwarded-for': `198.51.100.${i % 250}` },
          body: { code },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const s of statuses) expect([201, 409, 429]).toContain(s);
    expect((await walletOf(app, crowd.body.id)).balanceMicros).toBe(7_000);
  });

  it('a multi-use code credits each organization once, and no more organizations than its uses', async () => {
    const { codes } = await createBatch(app, { amountMicros: 1_000, maxUses: 2 });
    const code = codes[0] as string;
    const other = await app.call<{ id: string }>('POST', '/api/organizations', {
      token: MASTER,
      body: { name: 'Second', slug: `second-${engine}` },
    });
    const third = await app.call<{ id: string }>('POST', '/api/organizations', {
      token: MASTER,
      body: { name: 'Third', slug: `third-${engine}` },
    });
    const as = (id: string) => ({ token: MASTER, headers: { 'x-aihub-organization': id }, body: { code } });
    expect((await app.call('POST', '/api/billing/redeem', as(orgId))).status).toBe(201);
    expect((await app.call('POST', '/api/billing/redeem', as(other.body.id))).status).toBe(201);
    const used = await app.call<ErrorBody>('POST', '/api/billing/redeem', as(third.body.id));
    expect(used.status).toBe(409);
    expect(used.body.error.code).toBe('code_used_up');
    expect((await walletOf(app, other.body.id)).balanceMicros).toBe(1_000);
    expect((await walletOf(app, third.body.id)).balanceMicros).toBe(0);
  });

  it('refuses unknown, disabled and expired codes with clear 4xx, and audits every attempt', async () => {
    const unknown = await redeem('NOPE-NOPE-NOPE');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('redemption code');

    const { batch, codes } = await createBatch(app, { count: 2 });
    const disabled = await app.call<Batch>('PATCH', `/api/admin/billing/redemption-batches/${batch.id}`, {
      token: MASTER,
      body: { status: 'disabled' },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    const refused = await redeem(codes[0] as string);
    expect(refused.status).toBe(410);
    expect(refused.body.error.code).toBe('code_disabled');

    const soon = await createBatch(app, { expiresAt: app.clock.now() + 60_000 });
    app.clock.advance(61_000);
    const expired = await redeem(soon.codes[0] as string);
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('code_expired');

    const audit = await app.call<{ data: Array<{ action: string; detail: { outcome: string } }> }>(
      'GET',
      '/api/admin/audit?limit=500',
      inOrg(),
    );
    const outcomes = audit.body.data.filter((a) => a.action.startsWith('billing.redeem')).map((a) => a.detail.outcome);
    expect(outcomes).toEqual(
      expect.arrayContaining(['redeemed', 'already_redeemed', 'unknown', 'disabled', 'expired']),
    );
  });

  it('throttles failed redemptions per user: 429 after 10 failures, even for a valid code', async () => {
    const user = await register(app.call, uniqueEmail('guesser'));
    // The first account is the platform admin; this one registered into Default: give it billing.manage.
    const role = await app.call('PATCH', `/api/org/members/${user.userId}`, {
      ...inOrg(),
      body: { role: 'billing_manager' },
    });
    expect(role.status, JSON.stringify(role.body)).toBe(200);
    for (let i = 0; i < 10; i++) expect((await redeem(`WRONG-${i}`, { token: user.token })).status).toBe(404);
    const { codes } = await createBatch(app, {});
    const blocked = await redeem(codes[0] as string, { token: user.token });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_attempts');
    expect(blocked.headers.get('retry-after')).toBeTruthy();
  });

  it('needs billing.manage to redeem and a platform admin for batches and adjustments', async () => {
    const dev = await register(app.call, uniqueEmail('dev'));
    const { codes } = await createBatch(app, {});
    const res = await redeem(codes[0] as string, { token: dev.token });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('billing.manage');
    for (const [method, path, body] of [
      ['POST', '/api/admin/billing/redemption-batches', { name: 'x', amountMicros: 1, count: 1 }],
      ['POST', `/api/admin/organizations/${orgId}/billing/adjustments`, { amountMicros: 1, reason: 'x' }],
      ['PATCH', `/api/admin/organizations/${orgId}/billing`, { billingMode: 'prepaid' }],
      ['GET', '/api/admin/billing/wallets', undefined],
    ] as const) {
      const denied = await app.call<ErrorBody>(method, path, { token: dev.token, body });
      expect(denied.status, path).toBe(403);
    }
    expect((await app.call('GET', '/api/billing', {})).status).toBe(401);
  });

  it('refuses bad amounts, missing reasons, unknown organizations and batches', async () => {
    await app.settings({ billingMaxAmountMicros: 1_000_000 });
    const cases: Array<[number, string]> = [
      [0, 'non-zero'],
      [1_000_001, 'at most 1000000'],
      [-1_000_001, 'at most 1000000'],
    ];
    for (const [amount, message] of cases) {
      const res = await adjust(app, orgId, amount);
      expect(res.status, String(amount)).toBe(400);
      expect((res.body as unknown as ErrorBody).error.message).toContain(message);
    }
    const noReason = await app.call<ErrorBody>('POST', `/api/admin/organizations/${orgId}/billing/adjustments`, {
      token: MASTER,
      body: { amountMicros: 5 },
    });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toContain('reason');
    const blankReason = await adjust(app, orgId, 5, '   ');
    expect(blankReason.status).toBe(400);
    expect((await adjust(app, 'org_nope', 5)).status).toBe(404);

    for (const body of [
      { name: 'x', amountMicros: 0, count: 1 },
      { name: 'x', amountMicros: -5, count: 1 },
      { name: 'x', amountMicros: 2_000_000, count: 1 },
      { name: 'x', amountMicros: 5, count: 0 },
      { name: 'x', amountMicros: 5, count: 10_001 },
      { name: 'x', amountMicros: 5, count: 1, expiresAt: START - 1 },
      { name: 'x', amountMicros: 5, count: 1, prefix: 'no spaces!' },
    ]) {
      const res = await app.call<ErrorBody>('POST', '/api/admin/billing/redemption-batches', { token: MASTER, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const missing = await app.call<ErrorBody>('PATCH', '/api/admin/billing/redemption-batches/rcb_nope', {
      token: MASTER,
      body: { status: 'disabled' },
    });
    expect(missing.status).toBe(404);
    expect(
      (await app.call('GET', '/api/admin/billing/redemption-batches/rcb_nope/codes.csv', { token: MASTER })).status,
    ).toBe(404);
    expect(
      (
        await app.call('PATCH', '/api/admin/organizations/org_nope/billing', {
          token: MASTER,
          body: { billingMode: 'prepaid' },
        })
      ).status,
    ).toBe(404);
    const badMode = await app.call('PATCH', `/api/admin/organizations/${orgId}/billing`, {
      token: MASTER,
      body: { billingMode: 'free' },
    });
    expect(badMode.status).toBe(400);
    const fresh = await app.call<{ id: string }>('POST', '/api/organizations', {
      token: MASTER,
      body: { name: 'Fresh', slug: `fresh-${engine}` },
    });
    const wallets = await app.call<{ data: Array<{ orgId: string; balanceMicros: number; billingMode: string }> }>(
      'GET',
      '/api/admin/billing/wallets',
      { token: MASTER },
    );
    expect(wallets.body.data.map((w) => w.orgId)).toContain(orgId);
    // An organization that never had a transaction is listed too, at zero and postpaid, so it can be credited.
    expect(wallets.body.data.find((w) => w.orgId === fresh.body.id)).toMatchObject({
      balanceMicros: 0,
      billingMode: 'postpaid',
    });
  });
});
