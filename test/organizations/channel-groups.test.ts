import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { type ErrorBody, MASTER_KEY, uniqueEmail } from '../support/accounts.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

interface Channel {
  id: string;
  name: string;
  groups: string[];
}

/**
 * Channel groups: which channels' models an organization or team may use (the "user groups" of other
 * gateways). The platform admin puts channels in groups and limits an organization to some; the organization's
 * admins may narrow a team further but never widen it, nor change the organization's plan.
 */
describe.each(ENGINES)('channel groups (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  let platform: SignedIn;
  let orgAdmin: SignedIn;
  let dev: SignedIn;
  let orgId: string;
  let teamId: string;
  let defaultChannel: Channel;
  let vipChannel: Channel;
  let secret: string;
  let teamSecret: string;
  const as = (who: SignedIn) => ({ token: who.token, headers: { 'x-aihub-organization': orgId } });
  const models = async (key: string) =>
    (await call<{ data: Array<{ id: string }> }>('GET', '/v1/models', { token: key })).body.data.map((m) => m.id);
  const chat = (key: string, model: string) =>
    call<ErrorBody>('POST', '/v1/chat/completions', {
      token: key,
      body: { model, messages: [{ role: 'user', content: 'hi' }] },
    });
  const servedBy = async (key: string, model: string) => {
    const res = await chat(key, model);
    expect(res.status).toBe(200);
    return res.headers.get('x-aihub-channel');
  };
  const setPlan = (body: Record<string, unknown>) =>
    call('PATCH', `/api/admin/organizations/${orgId}`, { token: platform.token, body });

  beforeAll(async () => {
    t = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    call = client(t.url);
    platform = await register(call, uniqueEmail('platform'));
    orgAdmin = await register(call, uniqueEmail('org-admin'));
    dev = await register(call, uniqueEmail('dev'));
    await seedDemo(t.services);
    await call('PATCH', '/api/admin/settings', { token: platform.token, body: { exposeChannelHeader: true } });
    const channels = await call<{ data: Channel[] }>('GET', '/api/admin/channels', { token: platform.token });
    defaultChannel = channels.body.data[0] as Channel;
    const vip = await call<Channel>('POST', '/api/admin/channels', {
      token: platform.token,
      body: { name: 'vip-mock', type: 'mock', groups: ['vip'], priority: -5 },
    });
    expect(vip.status).toBe(201);
    vipChannel = vip.body;
    // mock-gpt: both channels (the default one first by priority); vip-gpt: the vip channel only.
    const gpt = (
      await call<{ data: Array<{ id: string; name: string }> }>('GET', '/api/admin/models', {
        token: platform.token,
      })
    ).body.data.find((m) => m.name === 'mock-gpt');
    await call('PATCH', `/api/admin/models/${gpt?.id}`, {
      token: platform.token,
      body: { routes: [{ channelId: defaultChannel.id }, { channelId: vipChannel.id }] },
    });
    const created = await call('POST', '/api/admin/models', {
      token: platform.token,
      body: { name: 'vip-gpt', routes: [{ channelId: vipChannel.id }] },
    });
    expect(created.status).toBe(201);

    orgId = (
      await call<{ id: string }>('POST', '/api/organizations', { token: platform.token, body: { name: 'Tiered' } })
    ).body.id;
    await call('POST', '/api/org/members', { ...as(platform), body: { email: orgAdmin.email, role: 'admin' } });
    await call('POST', '/api/org/members', { ...as(platform), body: { email: dev.email, role: 'developer' } });
    teamId = (await call<{ id: string }>('POST', '/api/org/teams', { ...as(orgAdmin), body: { name: 'Interns' } })).body
      .id;
    secret = (await call<{ secret: string }>('POST', '/api/keys', { ...as(dev), body: { name: 'dev' } })).body.secret;
    teamSecret = (
      await call<{ secret: string }>('POST', '/api/keys', {
        ...as(orgAdmin),
        body: { name: 'interns', userId: dev.userId, teamId },
      })
    ).body.secret;
  });
  afterAll(async () => t?.close());

  it('puts channels in the default group unless told otherwise, and checks group names', async () => {
    expect(defaultChannel.groups).toEqual(['default']);
    expect(vipChannel.groups).toEqual(['vip']);
    const bad = await call<ErrorBody>('POST', '/api/admin/channels', {
      token: platform.token,
      body: { name: 'bad', type: 'mock', groups: ['no spaces'] },
    });
    expect(bad.status).toBe(400);
    const none = await call<ErrorBody>('PATCH', `/api/admin/channels/${vipChannel.id}`, {
      token: platform.token,
      body: { groups: [] },
    });
    expect(none.status).toBe(400);
  });

  it('serves every channel to an organization without groups, as before', async () => {
    expect(await models(secret)).toContain('vip-gpt');
    expect(await servedBy(secret, 'mock-gpt')).toBe(defaultChannel.id);
    expect(await servedBy(secret, 'vip-gpt')).toBe(vipChannel.id);
  });

  it("limits an organization to its groups' channels: hidden models, refused requests, routing within", async () => {
    expect((await setPlan({ channelGroups: ['default'] })).status).toBe(200);
    expect(await models(secret)).not.toContain('vip-gpt');
    expect(await models(secret)).toContain('mock-gpt');
    const refused = await chat(secret, 'vip-gpt');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('model_not_allowed');
    const anthropic = await call<{ type: string; error: { type: string } }>('POST', '/v1/messages', {
      token: secret,
      body: { model: 'vip-gpt', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(anthropic.status).toBe(403);
    expect(anthropic.body.type).toBe('error');

    // Only vip: mock-gpt goes to the vip channel although the default one ranks first.
    await setPlan({ channelGroups: ['vip'] });
    for (let i = 0; i < 3; i++) expect(await servedBy(secret, 'mock-gpt')).toBe(vipChannel.id);
    expect((await call<{ channelGroups: string[] }>('GET', '/api/org', as(dev))).body.channelGroups).toEqual(['vip']);
  });

  it('narrows a team within the organization, never wider', async () => {
    await setPlan({ channelGroups: ['vip'] });
    const narrowed = await call('PATCH', `/api/org/teams/${teamId}`, {
      ...as(orgAdmin),
      body: { channelGroups: ['default'] },
    });
    expect(narrowed.status).toBe(200);
    // Organization vip, team default: no channel is in both, so nothing is left for the team's keys.
    expect(await models(teamSecret)).toEqual([]);
    expect((await chat(teamSecret, 'mock-gpt')).status).toBe(403);
    // The personal key outside the team still has the organization's channels.
    expect(await servedBy(secret, 'mock-gpt')).toBe(vipChannel.id);
    await call('PATCH', `/api/org/teams/${teamId}`, { ...as(orgAdmin), body: { channelGroups: ['vip', 'default'] } });
    expect(await servedBy(teamSecret, 'mock-gpt')).toBe(vipChannel.id);
  });

  it("keeps the organization's plan and team prices to platform admins", async () => {
    for (const body of [{ channelGroups: null }, { priceMultiplier: 0 }, { allowedModels: null }]) {
      const refused = await call<ErrorBody>('PATCH', '/api/org', { ...as(orgAdmin), body });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain('platform.organizations');
    }
    const price = await call<ErrorBody>('PATCH', `/api/org/teams/${teamId}`, {
      ...as(orgAdmin),
      body: { priceMultiplier: 0 },
    });
    expect(price.status).toBe(403);
    expect(
      (await call('POST', '/api/org/teams', { ...as(orgAdmin), body: { name: 'Cheap', priceMultiplier: 0.1 } })).status,
    ).toBe(403);
    // Their own organization's name and 2FA stay theirs.
    expect((await call('PATCH', '/api/org', { ...as(orgAdmin), body: { name: 'Tiered Ltd' } })).status).toBe(200);
    // The platform admin lifts the limit: every channel again.
    expect((await call('PATCH', '/api/org', { ...as(platform), body: { channelGroups: null } })).status).toBe(200);
    await call('PATCH', `/api/org/teams/${teamId}`, { ...as(orgAdmin), body: { channelGroups: null } });
    expect(await models(teamSecret)).toContain('vip-gpt');
  });

  it('applies the groups to the playground too', async () => {
    await setPlan({ channelGroups: ['default'] });
    const list = await call<{ data: Array<{ id: string }> }>('GET', '/api/playground/models', as(dev));
    expect(list.status).toBe(200);
    expect(list.body.data.map((m) => m.id)).not.toContain('vip-gpt');
    await setPlan({ channelGroups: null });
  });
});
