import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { type ErrorBody, MASTER_KEY, uniqueEmail } from '../support/accounts.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

interface Team {
  id: string;
  name: string;
  allowedModels: string[] | null;
  priceMultiplier: number | null;
  members: number;
  keys: number;
}
interface TeamMember {
  userId: string;
  role: string;
}

describe.each(ENGINES)('teams, team members and model access (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  let owner: SignedIn;
  let lead: SignedIn;
  let dev: SignedIn;
  let outsider: SignedIn;
  let orgId: string;
  let otherOrgId: string;
  let team: Team;
  const as = (who: SignedIn, org = orgId) => ({ token: who.token, headers: { 'x-aihub-organization': org } });
  const models = async (secret: string) =>
    (await call<{ data: Array<{ id: string }> }>('GET', '/v1/models', { token: secret })).body.data.map((m) => m.id);
  const chat = (secret: string, model: string) =>
    call<ErrorBody>('POST', '/v1/chat/completions', {
      token: secret,
      body: { model, messages: [{ role: 'user', content: 'hi' }] },
    });

  beforeAll(async () => {
    t = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    call = client(t.url);
    owner = await register(call, uniqueEmail('owner'));
    lead = await register(call, uniqueEmail('lead'));
    dev = await register(call, uniqueEmail('dev'));
    outsider = await register(call, uniqueEmail('outsider'));
    await seedDemo(t.services);
    orgId = (
      await call<{ id: string }>('POST', '/api/organizations', { token: owner.token, body: { name: 'Teams Inc' } })
    ).body.id;
    otherOrgId = (
      await call<{ id: string }>('POST', '/api/organizations', { token: owner.token, body: { name: 'Other Inc' } })
    ).body.id;
    for (const who of [lead, dev])
      await call('POST', '/api/org/members', { ...as(owner), body: { email: who.email, role: 'developer' } });
    await call('POST', '/api/org/members', {
      ...as(owner, otherOrgId),
      body: { email: outsider.email, role: 'admin' },
    });
    const created = await call<Team>('POST', '/api/org/teams', {
      ...as(owner),
      body: { name: 'Research', description: 'LLM evals', priceMultiplier: 0.8 },
    });
    expect(created.status).toBe(201);
    team = created.body;
  });
  afterAll(async () => t?.close());

  it('creates a team with a multiplier; a duplicate name in the organization is 409', async () => {
    expect(team).toMatchObject({ name: 'Research', priceMultiplier: 0.8, members: 0 });
    expect((await call('POST', '/api/org/teams', { ...as(owner), body: { name: 'Research' } })).status).toBe(409);
    // The same name in another organization is fine.
    expect(
      (await call('POST', '/api/org/teams', { ...as(owner, otherOrgId), body: { name: 'Research' } })).status,
    ).toBe(201);
  });

  it('adds members; a team admin manages the team without teams.manage, a member cannot', async () => {
    const added = await call<TeamMember>('POST', `/api/org/teams/${team.id}/members`, {
      ...as(owner),
      body: { userId: lead.userId, role: 'admin' },
    });
    expect(added.status).toBe(201);
    const byLead = await call<TeamMember>('POST', `/api/org/teams/${team.id}/members`, {
      ...as(lead),
      body: { userId: dev.userId },
    });
    expect(byLead.status).toBe(201);
    expect(byLead.body.role).toBe('member');
    const byDev = await call<ErrorBody>('DELETE', `/api/org/teams/${team.id}/members/${lead.userId}`, as(dev));
    expect(byDev.status).toBe(403);
    expect(byDev.body.error.message).toContain('teams.manage');
    // Only organization members can join; someone of another organization cannot.
    const foreign = await call<ErrorBody>('POST', `/api/org/teams/${team.id}/members`, {
      ...as(owner),
      body: { userId: outsider.userId },
    });
    expect(foreign.status).toBe(400);
    const me = await call<{ teams: Array<{ id: string; role: string }> }>('GET', '/api/me', as(lead));
    expect(me.body.teams).toEqual([{ id: team.id, name: 'Research', role: 'admin' }]);
  });

  it('shows a developer only their own teams; another organization never sees the team', async () => {
    await call('POST', '/api/org/teams', { ...as(owner), body: { name: 'Hidden' } });
    const mine = await call<{ data: Team[] }>('GET', '/api/org/teams', as(dev));
    expect(mine.body.data.map((x) => x.name)).toEqual(['Research']);
    const all = await call<{ data: Team[] }>('GET', '/api/org/teams', as(owner));
    expect(all.body.data.map((x) => x.name).sort()).toEqual(['Hidden', 'Research']);
    expect((await call('GET', `/api/org/teams/${team.id}`, as(outsider, otherOrgId))).status).toBe(404);
    expect((await call('GET', `/api/org/teams/${team.id}/members`, as(outsider, otherOrgId))).status).toBe(404);
    expect((await call('DELETE', `/api/org/teams/${team.id}`, as(outsider, otherOrgId))).status).toBe(404);
    expect(
      (await call('PATCH', `/api/org/teams/${team.id}`, { ...as(outsider, otherOrgId), body: { name: 'x' } })).status,
    ).toBe(404);
    // The wave-1 path answers the same list.
    const alias = await call<{ data: Team[] }>('GET', '/api/admin/teams', as(owner));
    expect(alias.body.data.map((x) => x.name).sort()).toEqual(['Hidden', 'Research']);
  });

  it('applies organization and team model access to /v1 at once, without a restart', async () => {
    const key = await call<{ secret: string }>('POST', '/api/keys', { ...as(dev), body: { name: 'dev key' } });
    expect(key.status).toBe(201);
    const secret = key.body.secret;
    expect(await models(secret)).toEqual(['mock-embedding', 'mock-gpt', 'mock-reasoner']);
    await call('PATCH', '/api/org', { ...as(owner), body: { allowedModels: ['mock-gpt', 'mock-reasoner'] } });
    expect(await models(secret)).toEqual(['mock-gpt', 'mock-reasoner']);
    const refused = await call<ErrorBody>('POST', '/v1/embeddings', {
      token: secret,
      body: { model: 'mock-embedding', input: 'x' },
    });
    expect(refused.status).toBe(403);
    // A key in the team: the team's list narrows further.
    const teamKey = await call<{ secret: string; key: { id: string } }>('POST', '/api/keys', {
      token: MASTER_KEY,
      headers: { 'x-aihub-organization': orgId },
      body: { name: 'team key', userId: dev.userId, teamId: team.id },
    });
    expect(teamKey.status).toBe(201);
    await call('PATCH', `/api/org/teams/${team.id}`, { ...as(owner), body: { allowedModels: ['mock-g*'] } });
    expect(await models(teamKey.body.secret)).toEqual(['mock-gpt']);
    expect((await chat(teamKey.body.secret, 'mock-reasoner')).status).toBe(403);
    expect((await chat(teamKey.body.secret, 'mock-gpt')).status).toBe(200);
    await call('PATCH', '/api/org', { ...as(owner), body: { allowedModels: null } });
    await call('PATCH', `/api/org/teams/${team.id}`, { ...as(owner), body: { allowedModels: null } });
    expect(await models(teamKey.body.secret)).toEqual(['mock-embedding', 'mock-gpt', 'mock-reasoner']);
  });

  it('refuses every key of a disabled organization on /v1, and serves it again once enabled', async () => {
    const key = await call<{ secret: string }>('POST', '/api/keys', { ...as(lead), body: { name: 'lead key' } });
    expect((await chat(key.body.secret, 'mock-gpt')).status).toBe(200);
    await call('PATCH', `/api/admin/organizations/${orgId}`, { token: owner.token, body: { status: 'disabled' } });
    const refused = await chat(key.body.secret, 'mock-gpt');
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain('organization is disabled');
    await call('PATCH', `/api/admin/organizations/${orgId}`, { token: owner.token, body: { status: 'active' } });
    expect((await chat(key.body.secret, 'mock-gpt')).status).toBe(200);
  });

  it('deletes a team: its members leave it, its keys stay without a team', async () => {
    const doomed = await call<Team>('POST', '/api/org/teams', { ...as(owner), body: { name: 'Doomed' } });
    await call('POST', `/api/org/teams/${doomed.body.id}/members`, { ...as(owner), body: { userId: dev.userId } });
    expect((await call('DELETE', `/api/org/teams/${doomed.body.id}`, as(dev))).status).toBe(403);
    expect((await call('DELETE', `/api/org/teams/${doomed.body.id}`, as(owner))).status).toBe(204);
    const me = await call<{ teams: Array<{ id: string }> }>('GET', '/api/me', as(dev));
    expect(me.body.teams.map((x) => x.id)).toEqual([team.id]);
  });
});
