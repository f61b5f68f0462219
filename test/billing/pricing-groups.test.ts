/**
 * Pricing groups: a named multiplier with per-model overrides (a multiplier, or a fixed list price per 1M
 * tokens), assigned by platform admins to organizations and teams; the list price on each request row follows
 * them (from memory: no query per request), and prepaid balances are charged exactly that price.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, register } from '../support/app.js';
import { adjust, defaultOrg, expectLedgerConsistent, settleUsage, walletOf } from '../support/billing.js';
import { ENGINES } from '../support/databases.js';
import { HELLO_COST, type LimitsApp, MASTER, startLimitsApp, uniqueEmail } from '../support/limits.js';

interface Group {
  id: string;
  name: string;
  multiplier: number;
  overrides: Array<Record<string, unknown>>;
  organizations: number;
  teams: number;
}

const CASES = ENGINES.flatMap((engine) => BACKENDS.map((backend) => [engine, backend] as const));

describe.each(CASES)('pricing groups (%s, %s counters)', (engine, backend) => {
  let app: LimitsApp;
  let orgId: string;
  let teamId: string;
  let secret: string;
  let teamSecret: string;
  beforeAll(async () => {
    app = await startLimitsApp({ engine, backend });
    orgId = await defaultOrg(app.call);
    secret = (await app.newKey()).secret;
    const team = await app.call<{ id: string }>('POST', '/api/org/teams', { token: MASTER, body: { name: 'Ops' } });
    teamId = team.body.id;
    teamSecret = (await app.newKey({ teamId })).secret;
  }, 60_000);
  afterAll(async () => app?.close());
  afterEach(async () => expectLedgerConsistent(app));

  const priceOf = async (res: { headers: Headers }) => {
    await settleUsage(app);
    const row = await app.t.database.handle.db
      .selectFrom('request_logs')
      .select(['cost_micros', 'price_micros', 'prompt_tokens', 'completion_tokens'])
      .where('id', '=', res.headers.get('x-request-id') as string)
      .executeTakeFirstOrThrow();
    return {
      cost: Number(row.cost_micros),
      price: Number(row.price_micros),
      prompt: Number(row.prompt_tokens),
      completion: Number(row.completion_tokens),
    };
  };
  const create = (body: Record<string, unknown>) =>
    app.call<Group>('POST', '/api/admin/billing/pricing-groups', { token: MASTER, body });
  const assignOrg = (groupId: string | null) =>
    app.call('PUT', `/api/admin/organizations/${orgId}/pricing-group`, { token: MASTER, body: { groupId } });
  const assignTeam = (groupId: string | null) =>
    app.call('PUT', `/api/admin/organizations/${orgId}/teams/${teamId}/pricing-group`, {
      token: MASTER,
      body: { groupId },
    });

  let resellers: Group;
  let partners: Group;
  it('prices by the group multiplier, and by a per-model multiplier override', async () => {
    const made = await create({ name: `Resellers ${backend}`, multiplier: 2 });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    resellers = made.body;
    expect((await assignOrg(resellers.id)).status).toBe(204);
    expect(await priceOf(await app.chat(secret))).toMatchObject({ cost: HELLO_COST, price: HELLO_COST * 2 });
    const patched = await app.call<Group>('PATCH', `/api/admin/billing/pricing-groups/${resellers.id}`, {
      token: MASTER,
      body: { overrides: [{ model: 'mock-gpt', multiplier: 3 }] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.overrides).toEqual([{ model: 'mock-gpt', multiplier: 3 }]);
    expect(await priceOf(await app.chat(secret))).toMatchObject({ cost: HELLO_COST, price: HELLO_COST * 3 });
    const list = await app.call<{ data: Group[] }>('GET', '/api/admin/billing/pricing-groups', { token: MASTER });
    expect(list.body.data.find((g) => g.id === resellers.id)).toMatchObject({ organizations: 1, teams: 0 });
  });

  it("a team's group wins over its organization's; a fixed per-model price ignores the cost", async () => {
    const made = await create({
      name: `Partners ${backend}`,
      multiplier: 1,
      overrides: [{ model: 'mock-gpt', inputPrice: 1_000_000, outputPrice: 2_000_000 }],
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    partners = made.body;
    expect((await assignTeam(partners.id)).status).toBe(204);
    const row = await priceOf(await app.chat(teamSecret));
    // 1 unit per 1M input tokens, 2 per 1M output: micro-units equal the tokens.
    expect(row.price).toBe(row.prompt + 2 * row.completion);
    // The organization's other keys keep the organization's group.
    expect((await priceOf(await app.chat(secret))).price).toBe(HELLO_COST * 3);
    expect((await assignTeam(null)).status).toBe(204);
    expect((await priceOf(await app.chat(teamSecret))).price).toBe(HELLO_COST * 3);
  });

  it('charges a prepaid balance the overridden price, keeping balance and counters equal to the ledger', async () => {
    expect((await adjust(app, orgId, 10_000)).status).toBe(201);
    await app.call('PATCH', `/api/admin/organizations/${orgId}/billing`, {
      token: MASTER,
      body: { billingMode: 'prepaid' },
    });
    const before = (await walletOf(app, orgId)).balanceMicros;
    for (let i = 0; i < 3; i++) expect((await app.chat(secret)).status).toBe(200);
    const after = (await walletOf(app, orgId)).balanceMicros;
    expect(before - after).toBe(3 * HELLO_COST * 3);
    expect(await app.t.services.billing.wallets.available(orgId)).toBe(after);
    await app.call('PATCH', `/api/admin/organizations/${orgId}/billing`, {
      token: MASTER,
      body: { billingMode: 'postpaid' },
    });
  });

  it('refuses bad input, groups in use, unknown ids and non-admins', async () => {
    const dup = await create({
      name: `Dup ${backend}`,
      overrides: [
        { model: 'a', multiplier: 1 },
        { model: 'a', multiplier: 2 },
      ],
    });
    expect(dup.status).toBe(400);
    expect((await create({ name: `Neg ${backend}`, multiplier: -1 })).status).toBe(400);
    expect((await create({ name: resellers.name })).status).toBe(409);
    expect(
      (await create({ name: `Both ${backend}`, overrides: [{ model: 'a', multiplier: 1, inputPrice: 1 }] })).status,
    ).toBe(400);
    const inUse = await app.call('DELETE', `/api/admin/billing/pricing-groups/${resellers.id}`, { token: MASTER });
    expect(inUse.status).toBe(409);
    expect((await assignOrg('prg_missing')).status).toBe(404);
    expect(
      (
        await app.call('PUT', '/api/admin/organizations/org_missing/pricing-group', {
          token: MASTER,
          body: { groupId: null },
        })
      ).status,
    ).toBe(404);
    const member = await register(app.call, uniqueEmail('member'));
    expect((await app.call('GET', '/api/admin/billing/pricing-groups', { token: member.token })).status).toBe(403);
    expect(
      (
        await app.call('PUT', `/api/admin/organizations/${orgId}/pricing-group`, {
          token: member.token,
          body: { groupId: null },
        })
      ).status,
    ).toBe(403);
    // Unassigned, it can go; the organization is back at its own multiplier.
    expect((await assignOrg(null)).status).toBe(204);
    expect(
      (await app.call('DELETE', `/api/admin/billing/pricing-groups/${resellers.id}`, { token: MASTER })).status,
    ).toBe(204);
    expect((await priceOf(await app.chat(secret))).price).toBe(HELLO_COST);
  });
});
