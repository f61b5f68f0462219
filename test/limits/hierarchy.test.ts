/**
 * A request must fit every level it belongs to — key, user, team, organization — and the refusal names
 * the level that ran out. Default limits from settings apply to new users and keys only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, register } from '../support/app.js';
import {
  burst,
  eventually,
  HELLO_COST,
  type LimitsApp,
  MASTER,
  type Policy,
  startLimitsApp,
  statuses,
  sum,
  uniqueEmail,
} from '../support/limits.js';

describe.each(BACKENDS)('hierarchical limits (%s counters)', (backend) => {
  let a: LimitsApp;

  beforeAll(async () => {
    a = await startLimitsApp({ backend });
  });
  afterAll(async () => a?.close());

  const member = (tag: string) => register(a.call, uniqueEmail(`${tag}-${backend}`));
  const newTeam = async (name: string) => {
    const res = await a.call<{ id: string; orgId: string }>('POST', '/api/admin/teams', {
      token: MASTER,
      body: { name: `${name}-${backend}` },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const joinTeam = async (keyId: string, teamId: string | null) => {
    const res = await a.call<{ teamId: string | null }>('PATCH', `/api/keys/${keyId}`, {
      token: MASTER,
      body: { teamId },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.teamId).toBe(teamId);
  };

  it("refuses a key within its own budget once its user's budget is used up, on every key of the user", async () => {
    const dev = await member('user-budget');
    const one = await a.newKey({ budgetMicros: 1_000_000, budgetPeriod: 'day' }, dev.token);
    const two = await a.newKey({}, dev.token);
    await a.setLimits('user', dev.userId, { budgetMicros: 2 * HELLO_COST, budgetPeriod: 'month' });
    expect((await a.chat(one.secret)).status).toBe(200);
    expect((await a.embed(two.secret)).status).toBe(200);
    expect((await a.chat(two.secret)).status).toBe(200);
    const refused = await a.chat(one.secret);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota' });
    expect(refused.body.error.message).toMatch(
      /^Your monthly budget is used up; it resets at 2026-12-01T00:00:00.000Z$/,
    );
    expect(refused.headers.get('retry-after')).not.toBeNull();
    const messages = await a.messages(two.secret);
    expect(messages.status).toBe(429);
    expect(messages.body.error.message).toMatch(/^Your monthly budget is used up/);

    // What the developer sees: the key still has budget left, the user has none.
    const usage = await a.usage(dev.token);
    const spent = sum(await a.logs('user_id', dev.userId), (r) => r.cost);
    expect(usage.user?.usage.spend).toMatchObject({ used: spent, limit: 2 * HELLO_COST, remaining: 0 });
    expect(usage.keys.find((k) => k.id === one.key.id)?.usage.spend).toMatchObject({
      used: HELLO_COST,
      remaining: 1_000_000 - HELLO_COST,
    });
    // Lifting the user's limit lets the key through again.
    await a.setLimits('user', dev.userId, { budgetMicros: null });
    expect((await a.chat(one.secret)).status).toBe(200);
  });

  it('gives back what the key levels took when a higher level refuses', async () => {
    const dev = await member('refund');
    const { secret, key } = await a.newKey(
      { rpm: 3, tpm: 1_000, budgetMicros: 10_000, budgetPeriod: 'day' },
      dev.token,
    );
    await a.setLimits('user', dev.userId, { tokenQuota: 1, tokenQuotaPeriod: 'day' });
    expect((await a.chat(secret)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const refused = await a.chat(secret);
      expect(refused.status).toBe(429);
      expect(refused.body.error.message).toMatch(/^Your daily token quota is used up/);
    }
    await a.setLimits('user', dev.userId, { tokenQuota: null });
    // The five refusals took neither requests, tokens nor budget from the key: two more fit in the minute.
    expect(
      await eventually(
        () => a.counter({ type: 'key', id: key.id }, 'cost', 'day'),
        (v) => v === HELLO_COST,
      ),
    ).toBe(HELLO_COST);
    const results = await burst(4, () => a.chat(secret));
    expect(statuses(results)).toEqual({ 200: 2, 429: 2 });
    const ok = results.find((r) => r.status === 200);
    expect(Number(ok?.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThanOrEqual(1_000 - 3 * 28);
  });

  it('refuses every key of a team whose budget is used up, whoever owns it, and only those', async () => {
    const team = await newTeam('research');
    const alice = await member('alice');
    const bob = await member('bob');
    const inTeam = await a.newKey({ budgetMicros: 1_000_000 }, alice.token);
    const bobsKey = await a.newKey({}, bob.token);
    const outside = await a.newKey({}, alice.token);
    // Only admins put keys in teams.
    const denied = await a.call('PATCH', `/api/keys/${inTeam.key.id}`, {
      token: alice.token,
      body: { teamId: team.id },
    });
    expect(denied.status).toBe(403);
    await joinTeam(inTeam.key.id, team.id);
    await joinTeam(bobsKey.key.id, team.id);

    expect((await a.chat(inTeam.secret)).status).toBe(200);
    // The team has spent 48 of 49: one more request fits, whoever's key it is.
    await a.setLimits('team', team.id, { budgetMicros: HELLO_COST + 1, budgetPeriod: 'month' });
    expect((await a.chat(bobsKey.secret)).status).toBe(200);
    const refused = await a.chat(inTeam.secret);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'insufficient_quota' });
    expect(refused.body.error.message).toMatch(/^Your team's monthly budget is used up/);
    expect((await a.embed(bobsKey.secret)).status).toBe(429);
    expect((await a.chat(outside.secret)).status).toBe(200);

    const limits = await a.call<{ limits: Policy; usage: { spend: number; requests: number } }>(
      'GET',
      `/api/admin/limits/team/${team.id}`,
      {
        token: MASTER,
      },
    );
    const rows = await a.logs('team_id', team.id);
    expect(limits.body.limits).toMatchObject({ budgetMicros: HELLO_COST + 1, budgetPeriod: 'month' });
    expect(limits.body.usage).toMatchObject({ spend: sum(rows, (r) => r.cost), requests: rows.length });
    // Two served, two refused (logged with their 429, nothing billed).
    expect(rows.map((r) => [r.status, r.cost]).sort()).toEqual([
      [200, HELLO_COST],
      [200, HELLO_COST],
      [429, 0],
      [429, 0],
    ]);
    expect(await a.counter({ type: 'team', id: team.id }, 'cost', 'month')).toBe(sum(rows, (r) => r.cost));

    // Out of the team, the key is free again.
    await joinTeam(inTeam.key.id, null);
    expect((await a.chat(inTeam.secret)).status).toBe(200);
  });

  it("stops applying a deleted team's limits to its former keys", async () => {
    const team = await newTeam('short-lived');
    const { secret, key } = await a.newKey({});
    await joinTeam(key.id, team.id);
    await a.setLimits('team', team.id, { budgetMicros: 1, budgetPeriod: 'day' });
    expect((await a.chat(secret)).status).toBe(200);
    expect((await a.chat(secret)).status).toBe(429);
    expect((await a.call('DELETE', `/api/admin/teams/${team.id}`, { token: MASTER })).status).toBe(204);
    const read = await a.call<{ teamId: string | null }>('GET', `/api/keys/${key.id}`, { token: MASTER });
    expect(read.body.teamId).toBeNull();
    const after = await a.chat(secret);
    expect(after.status, JSON.stringify(after.body)).toBe(200);
  });

  it('applies a team rpm across the keys of the team', async () => {
    const team = await newTeam('rpm');
    const one = await a.newKey({});
    const two = await a.newKey({});
    await joinTeam(one.key.id, team.id);
    await joinTeam(two.key.id, team.id);
    await a.setLimits('team', team.id, { rpm: 3 });
    const results = await Promise.all([
      ...Array.from({ length: 3 }, () => a.chat(one.secret)),
      ...Array.from({ length: 3 }, () => a.embed(two.secret)),
    ]);
    expect(statuses(results)).toEqual({ 200: 3, 429: 3 });
    const refused = results.find((r) => r.status === 429);
    expect(refused?.body.error.message).toMatch(/^Your team's limit of 3 requests per minute is reached/);
  });

  it('applies an organization rpm to every key of the organization', async () => {
    const one = await a.newKey({});
    const other = await member('org');
    const two = await a.newKey({}, other.token);
    await a.setLimits('org', 'org_default', { rpm: 4 });
    try {
      const results = await Promise.all([
        ...Array.from({ length: 4 }, () => a.chat(one.secret)),
        ...Array.from({ length: 4 }, () => a.chat(two.secret)),
      ]);
      expect(statuses(results)).toEqual({ 200: 4, 429: 4 });
      const refused = results.find((r) => r.status === 429);
      expect(refused?.body.error).toMatchObject({ code: 'rate_limit_exceeded' });
      expect(refused?.body.error.message).toMatch(
        /^Your organization's limit of 4 requests per minute is reached; retry after \d+s$/,
      );
      expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const ok = results.find((r) => r.status === 200);
      expect(ok?.headers.get('x-ratelimit-limit-requests')).toBe('4');
    } finally {
      await a.setLimits('org', 'org_default', { rpm: null });
    }
    expect((await a.chat(one.secret)).status).toBe(200);
  });

  it('reports the tightest level in the x-ratelimit headers', async () => {
    const dev = await member('tightest');
    const { secret } = await a.newKey({ rpm: 50 }, dev.token);
    await a.setLimits('user', dev.userId, { rpm: 10 });
    const res = await a.chat(secret);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('9');
  });

  it('gives new users and new keys the default limits from settings, and leaves existing ones alone', async () => {
    const before = await member('before-defaults');
    const oldKey = await a.newKey({}, before.token);
    await a.settings({
      defaultKeyLimits: { rpm: 3 },
      defaultUserLimits: { budgetMicros: 7_000_000, budgetPeriod: 'week' },
    });
    try {
      const dev = await member('defaults');
      const created = await a.newKey({}, dev.token);
      expect(created.key.limits).toMatchObject({ rpm: 3, budgetMicros: null });
      // A key made with explicit limits gets the defaults under them.
      const explicit = await a.newKey({ budgetMicros: 500 }, dev.token);
      expect(explicit.key.limits).toMatchObject({ rpm: 3, budgetMicros: 500 });
      const results = await burst(5, () => a.chat(created.secret));
      expect(statuses(results)).toEqual({ 200: 3, 429: 2 });

      const limits = await a.call<{ limits: Policy }>('GET', `/api/admin/limits/user/${dev.userId}`, { token: MASTER });
      expect(limits.body.limits).toMatchObject({ budgetMicros: 7_000_000, budgetPeriod: 'week' });
      expect((await a.usage(dev.token)).user?.usage.spend).toMatchObject({ limit: 7_000_000, period: 'week' });
      // Users made by an admin get them too.
      const made = await a.call<{ id: string }>('POST', '/api/admin/users', {
        token: MASTER,
        body: { email: uniqueEmail('made'), password: 'correct horse 1' },
      });
      expect(made.status).toBe(201);
      const madeLimits = await a.call<{ limits: Policy }>('GET', `/api/admin/limits/user/${made.body.id}`, {
        token: MASTER,
      });
      expect(madeLimits.body.limits.budgetMicros).toBe(7_000_000);

      // Existing users and keys keep what they had.
      expect(
        (await a.call<{ limits: Policy }>('GET', `/api/admin/limits/user/${before.userId}`, { token: MASTER })).body
          .limits.budgetMicros,
      ).toBeNull();
      const unchanged = await burst(5, () => a.chat(oldKey.secret));
      expect(statuses(unchanged)).toEqual({ 200: 5 });
    } finally {
      await a.settings({ defaultKeyLimits: {}, defaultUserLimits: {} });
    }
    const after = await a.newKey({});
    expect(after.key.limits.rpm).toBeNull();
  });
});
