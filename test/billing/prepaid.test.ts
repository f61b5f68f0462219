/**
 * Prepaid organizations: each /v1 request reserves its list price against the balance before it is sent and
 * settles after; at zero balance /v1 answers 402 insufficient_balance in the client's protocol with a top-up
 * link; usage is charged to the ledger in batches; list price (× multiplier) and cost both land on the row.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/app.js';
import {
  adjust,
  defaultOrg,
  expectLedgerConsistent,
  settleUsage,
  type Transaction,
  walletOf,
} from '../support/billing.js';
import { ENGINES } from '../support/databases.js';
import { HELLO_COST, type LimitsApp, MASTER, startLimitsApp } from '../support/limits.js';

const CASES = ENGINES.flatMap((engine) => BACKENDS.map((backend) => [engine, backend] as const));

describe.each(CASES)('prepaid billing (%s, %s counters)', (engine, backend) => {
  let app: LimitsApp;
  let orgId: string;
  let secret: string;
  beforeAll(async () => {
    app = await startLimitsApp({ engine, backend, env: { AIHUB_PUBLIC_URL: 'https://hub.example' } });
    orgId = await defaultOrg(app.call);
    secret = (await app.newKey()).secret;
  }, 60_000);
  afterAll(async () => app?.close());
  afterEach(async () => expectLedgerConsistent(app));

  const setMode = (billingMode: 'prepaid' | 'postpaid') =>
    app.call('PATCH', `/api/admin/organizations/${orgId}/billing`, { token: MASTER, body: { billingMode } });
  const transactions = async () =>
    (
      await app.call<{ data: Transaction[] }>('GET', '/api/billing/transactions?limit=500', {
        token: MASTER,
        headers: { 'x-aihub-organization': orgId },
      })
    ).body.data;

  it('records cost and list price (× the organization multiplier) on each row; postpaid is not charged', async () => {
    const patched = await app.call('PATCH', '/api/org', { token: MASTER, body: { priceMultiplier: 1.5 } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const res = await app.chat(secret);
    expect(res.status).toBe(200);
    await settleUsage(app);
    const row = await app.t.database.handle.db
      .selectFrom('request_logs')
      .select(['cost_micros', 'price_micros'])
      .where('id', '=', res.headers.get('x-request-id') as string)
      .executeTakeFirstOrThrow();
    expect(Number(row.cost_micros)).toBe(HELLO_COST);
    expect(Number(row.price_micros)).toBe(HELLO_COST * 1.5);
    expect(await transactions()).toEqual([]);
    await app.call('PATCH', '/api/org', { token: MASTER, body: { priceMultiplier: null } });
  });

  it('refuses at zero balance with 402 in the OpenAI and Anthropic shapes, linking to the top-up page', async () => {
    const set = await setMode('prepaid');
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ billingMode: 'prepaid', balanceMicros: 0, currency: 'USD' });
    const openai = await app.chat(secret);
    expect(openai.status).toBe(402);
    expect(openai.body.error).toMatchObject({ code: 'insufficient_balance', type: 'insufficient_quota' });
    expect(openai.body.error.message).toContain('https://hub.example/billing');
    const anthropic = await app.messages(secret);
    expect(anthropic.status).toBe(402);
    expect(anthropic.body).toMatchObject({ type: 'error', error: { type: 'billing_error' } });
    // The official SDKs read it as what it is.
    const sdkError = await new OpenAI({ apiKey: secret, baseURL: `${app.t.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'mock-gpt', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(sdkError).toBeInstanceOf(OpenAI.APIError);
    expect(sdkError).toMatchObject({ status: 402, code: 'insufficient_balance', type: 'insufficient_quota' });
    const anthropicError = await new Anthropic({ apiKey: secret, baseURL: app.t.url, maxRetries: 0 }).messages
      .create({ model: 'mock-gpt', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
    expect(anthropicError).toMatchObject({ status: 402, error: { type: 'error', error: { type: 'billing_error' } } });
    // Refused requests cost nothing and are charged nothing.
    expect((await walletOf(app, orgId)).balanceMicros).toBe(0);
  });

  it('reserves then settles against the balance: overshoot of at most one request, then 402', async () => {
    const credit = await adjust(app, orgId, 100, 'trial credit');
    expect(credit.status, JSON.stringify(credit.body)).toBe(201);
    expect(credit.body).toMatchObject({ kind: 'adjustment', amountMicros: 100, balanceAfterMicros: 100 });
    // 100 left: 48 → 52 left, 48 → 4 left, then 4 > 0 still admits one (overshoot ≤ one request), then none.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await app.chat(secret)).status);
    expect(statuses).toEqual([200, 200, 200, 402, 402]);
    const wallet = await walletOf(app, orgId);
    expect(wallet.balanceMicros).toBe(100 - 3 * HELLO_COST);
    const usage = (await transactions()).filter((t) => t.kind === 'usage');
    expect(usage.reduce((n, t) => n + t.amountMicros, 0)).toBe(-3 * HELLO_COST);
    // Batched: far fewer ledger rows than requests is allowed, never more.
    expect(usage.length).toBeLessThanOrEqual(3);
    expect(await app.t.services.billing.wallets.available(orgId)).toBe(100 - 3 * HELLO_COST);
  });

  it('a top-up makes the next request pass at once; postpaid again is not held by the balance', async () => {
    await adjust(app, orgId, 1_000, 'top-up by hand');
    expect((await app.chat(secret)).status).toBe(200);
    await setMode('postpaid');
    await adjust(app, orgId, -2_000, 'take it back');
    expect((await app.chat(secret)).status).toBe(200);
    const wallet = await walletOf(app, orgId);
    expect(wallet.billingMode).toBe('postpaid');
    expect(wallet.balanceMicros).toBe(100 - 4 * HELLO_COST + 1_000 - 2_000);
  });
});
