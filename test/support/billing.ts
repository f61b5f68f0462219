/**
 * Billing tests' harness: the limits harness (mock model: "Hello there" with max_tokens 20 reserves 50 and
 * costs 48 micro-units), the Default organization's id, and the ledger invariant every billing test ends with.
 */
import { expect } from 'vitest';
import type { Call } from './app.js';
import { type LimitsApp, MASTER } from './limits.js';

export interface Wallet {
  orgId: string;
  balanceMicros: number;
  billingMode: 'postpaid' | 'prepaid';
  lowBalanceThresholds: number[];
  currency: string;
}
export interface Transaction {
  id: string;
  kind: string;
  amountMicros: number;
  balanceAfterMicros: number;
  reference: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
  walletId?: string | null;
}
export interface Batch {
  id: string;
  name: string;
  amountMicros: number;
  count: number;
  maxUses: number;
  expiresAt: number | null;
  status: 'active' | 'disabled';
  redeemed: number;
}

/** The Default organization's id (the master key's organization). */
export async function defaultOrg(call: Call): Promise<string> {
  const org = await call<{ id: string }>('GET', '/api/org', { token: MASTER });
  expect(org.status).toBe(200);
  return org.body.id;
}

/** Write what the data plane queued (request rows, then usage charges). */
export async function settleUsage(app: LimitsApp): Promise<void> {
  await app.t.services.recorder.flush();
  await app.t.services.billing.charger.flush();
}

/** The balance of every wallet is the sum of its ledger (what `aihub billing verify` checks). */
export async function expectLedgerConsistent(app: LimitsApp): Promise<void> {
  await settleUsage(app);
  expect(await app.t.services.billing.service.verify()).toEqual([]);
}

export async function walletOf(app: LimitsApp, orgId: string): Promise<Wallet> {
  await settleUsage(app);
  const res = await app.call<Wallet>('GET', '/api/billing', {
    token: MASTER,
    headers: { 'x-aihub-organization': orgId },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function adjust(app: LimitsApp, orgId: string, amountMicros: number, reason = 'test credit') {
  return app.call<Transaction>('POST', `/api/admin/organizations/${orgId}/billing/adjustments`, {
    token: MASTER,
    body: { amountMicros, reason },
  });
}

export async function createBatch(app: LimitsApp, body: Record<string, unknown>) {
  const res = await app.call<{ batch: Batch; codes: string[] }>('POST', '/api/admin/billing/redemption-batches', {
    token: MASTER,
    body: { name: 'test batch', amountMicros: 1_000, count: 1, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}
