/**
 * Team and user wallets (setting billingMemberWallets): a prepaid organization's request is charged to the key
 * owner's user wallet (user wallets on, one exists), else the key's team wallet (team wallets on, one exists),
 * else the organization's; each refuses with 402 at zero on its own; admins top them up; every wallet's
 * balance is the sum of its ledger (`aihub billing verify`).
 */
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

interface MemberWallet {
  id: string;
  ownerType: 'team' | 'user';
  ownerId: string;
  ownerLabel: string | null;
  balanceMicros: number;
}

describe.each(CASES)('team and user wallets (%s, %s counters)', (engine, backend) => {
  let app: LimitsApp;
  let orgId: string;
  let teamId: string;
  let teamKey: string;
  let ownKey: string;
  beforeAll(async () => {
    app = await startLimitsApp({ engine, backend });
    orgId = await defaultOrg(app.call);
    const team = await app.call<{ id: string }>('POST', '/api/org/teams', {
      token: MASTER,
      headers: { 'x-aihub-organization': orgId },
      body: { name: `Research ${engine} ${backend}` },
    });
    expect(team.status, JSON.stringify(team.body)).toBe(201);
    teamId = team.body.id;
    teamKey = (await app.newKey({ teamId })).secret;
    ownKey = (await app.newKey()).secret;
    const mode = await app.call('PATCH', `/api/admin/organizations/${orgId}/billing`, {
      token: MASTER,
      body: { billingMode: 'prepaid' },
    });
    expect(mode.status).toBe(200);
  }, 60_000);
  afterAll(async () => app?.close());
  afterEach(async () => expectLedgerConsistent(app));

  const memberAdjust = (body: Record<string, unknown>, org = orgId) =>
    app.call<Transaction & { walletId: string }>(
      'POST',
      `/api/admin/organizations/${org}/billing/member-wallets/adjustments`,
      { token: MASTER, body: { reason: 'test credit', ...body } },
    );
  const members = async () => {
    await settleUsage(app);
    const res = await app.call<{ mode: string; data: MemberWallet[] }>(
      'GET',
      `/api/admin/organizations/${orgId}/billing/member-wallets`,
      { token: MASTER },
    );
    expect(res.status).toBe(200);
    return res.body;
  };
  const balanceOf = async (ownerType: 'team' | 'user', ownerId: string) =>
    (await members()).data.find((w) => w.ownerType === ownerType && w.ownerId === ownerId)?.balanceMicros;
  const orgBalance = async () => (await walletOf(app, orgId)).balanceMicros;

  it('validates top-ups of member wallets: amount, reason, the owner belongs to the organization', async () => {
    const zero = await memberAdjust({ ownerType: 'team', ownerId: teamId, amountMicros: 0 });
    expect(zero.status).toBe(400);
    const noReason = await memberAdjust({ ownerType: 'team', ownerId: teamId, amountMicros: 5, reason: ' ' });
    expect(noReason.status).toBe(400);
    const stranger = await memberAdjust({ ownerType: 'user', ownerId: 'usr_nosuchuser', amountMicros: 5 });
    expect(stranger.status).toBe(404);
    const badType = await memberAdjust({ ownerType: 'org', ownerId: orgId, amountMicros: 5 });
    expect(badType.status).toBe(400);
    const other = await app.call<{ id: string }>('POST', '/api/organizations', {
      token: MASTER,
      body: { name: `Elsewhere ${engine} ${backend}` },
    });
    expect(other.status).toBe(201);
    // The team is not the other organization's.
    expect((await memberAdjust({ ownerType: 'team', ownerId: teamId, amountMicros: 5 }, other.body.id)).status).toBe(
      404,
    );
    const platformOnly = await app.call('GET', `/api/admin/organizations/${orgId}/billing/member-wallets`);
    expect(platformOnly.status).toBe(401);
    expect((await members()).data).toEqual([]);
  });

  it('with the setting off, a team wallet exists but requests still use the organization wallet', async () => {
    await app.settings({ billingMemberWallets: 'off' });
    const credit = await memberAdjust({ ownerType: 'team', ownerId: teamId, amountMicros: 1_000 });
    expect(credit.status, JSON.stringify(credit.body)).toBe(201);
    expect(credit.body).toMatchObject({ kind: 'adjustment', amountMicros: 1_000, balanceAfterMicros: 1_000 });
    expect(credit.body.walletId).toMatch(/^mwl_/);
    // The organization has nothing: its wallet refuses, the team's is not used.
    expect(await orgBalance()).toBe(0);
    expect((await app.chat(teamKey)).status).toBe(402);
    // The organization's ledger does not show the team's entries.
    const ledger = await app.call<{ data: Transaction[] }>('GET', '/api/billing/transactions', {
      token: MASTER,
      headers: { 'x-aihub-organization': orgId },
    });
    expect(ledger.body.data).toEqual([]);
  });

  it("with team wallets on, the team key's requests reserve and settle against the team wallet", async () => {
    await app.settings({ billingMemberWallets: 'team' });
    const before = (await balanceOf('team', teamId)) as number;
    const ok = await app.chat(teamKey);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    await settleUsage(app);
    expect(await balanceOf('team', teamId)).toBe(before - HELLO_COST);
    expect(await orgBalance()).toBe(0);
    // A key without a team (or whose owner has no wallet) is still the organization's: refused at zero.
    const own = await app.chat(ownKey);
    expect(own.status).toBe(402);
    expect(own.body.error.code).toBe('insufficient_balance');
    const wallet = (await members()).data.find((w) => w.ownerType === 'team');
    const entries = await app.call<{ data: Transaction[] }>(
      'GET',
      `/api/admin/organizations/${orgId}/billing/member-wallets/${wallet?.id}/transactions`,
      { token: MASTER },
    );
    // (The test clock stands still: both entries carry one time, so compare them as a set.)
    expect(entries.body.data.map((e) => [e.kind, e.amountMicros]).sort()).toEqual([
      ['adjustment', 1_000],
      ['usage', -HELLO_COST],
    ]);
    expect(entries.body.data.every((e) => e.walletId === wallet?.id)).toBe(true);
  });

  it('refuses with 402 once the team wallet is used up, while the organization wallet has money', async () => {
    const credit = await adjust(app, orgId, 1_000_000);
    expect(credit.status).toBe(201);
    const left = (await balanceOf('team', teamId)) as number;
    // Debit the team wallet to zero: the next team request is refused, the organization's money untouched.
    expect((await memberAdjust({ ownerType: 'team', ownerId: teamId, amountMicros: -left })).status).toBe(201);
    const refused = await app.chat(teamKey);
    expect(refused.status).toBe(402);
    expect(refused.body.error.message).toContain('team');
    expect((await app.chat(ownKey)).status).toBe(200);
    await settleUsage(app);
    expect(await orgBalance()).toBe(1_000_000 - HELLO_COST);
    expect(await balanceOf('team', teamId)).toBe(0);
  });

  it("with user wallets on, the key owner's user wallet comes before the team's", async () => {
    await app.settings({ billingMemberWallets: 'team_and_user' });
    const credit = await memberAdjust({ ownerType: 'user', ownerId: app.ownerId, amountMicros: 500 });
    expect(credit.status, JSON.stringify(credit.body)).toBe(201);
    const orgBefore = await orgBalance();
    // The team key is owned by the same user: the user wallet pays, though the team wallet is empty.
    expect((await app.chat(teamKey)).status).toBe(200);
    expect((await app.chat(ownKey)).status).toBe(200);
    await settleUsage(app);
    expect(await balanceOf('user', app.ownerId)).toBe(500 - 2 * HELLO_COST);
    expect(await balanceOf('team', teamId)).toBe(0);
    expect(await orgBalance()).toBe(orgBefore);
    const list = await members();
    expect(list.mode).toBe('team_and_user');
    expect(list.data.find((w) => w.ownerType === 'user')?.ownerLabel).toContain('@');
    // Team wallets only: the same team key goes back to its (empty) team wallet.
    await app.settings({ billingMemberWallets: 'team' });
    expect((await app.chat(teamKey)).status).toBe(402);
    await app.settings({ billingMemberWallets: 'off' });
  });

  it('a broken member balance is reported by verify', async () => {
    const wallet = (await members()).data[0] as MemberWallet;
    const db = app.t.database.handle.db;
    await db.updateTable('member_wallets').set({ balance_micros: 12_345 }).where('id', '=', wallet.id).execute();
    const wrong = await app.t.services.billing.service.verify();
    expect(wrong).toEqual([{ orgId, walletId: wallet.id, balance: 12_345, ledger: wallet.balanceMicros }]);
    await db
      .updateTable('member_wallets')
      .set({ balance_micros: wallet.balanceMicros })
      .where('id', '=', wallet.id)
      .execute();
  });
});
