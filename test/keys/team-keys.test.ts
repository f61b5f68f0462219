import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../support/accounts.js';
import { ENGINES } from '../support/databases.js';
import { inOrg, startTenancy, type Tenancy, type TenantOrg } from '../support/tenancy.js';

interface Key {
  id: string;
  userId: string;
  orgId: string;
  teamId: string | null;
  teamOwned: boolean;
  status: string;
}
interface Created {
  key: Key;
  secret: string;
}

async function chat(url: string, secret: string): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  return res.status;
}

describe.each(ENGINES)('team-owned keys and key reach (%s)', (engine) => {
  let env: Tenancy;
  let a: TenantOrg;
  beforeAll(async () => {
    env = await startTenancy(engine, 1);
    a = env.orgs[0] as TenantOrg;
  }, 60_000);
  afterAll(async () => env?.close());

  it('creates a key in the organization the request is about, not the owner’s home', async () => {
    // The platform admin's home is Default; acting in A, the key is A's.
    const made = await env.call<Created>('POST', '/api/keys', { ...inOrg(env.admin, a.id), body: { name: 'x' } });
    expect(made.status).toBe(201);
    expect(made.body.key.orgId).toBe(a.id);
    expect((await env.call('GET', `/api/keys/${made.body.key.id}`, { token: env.admin.token })).status).toBe(404);
    expect((await env.call('GET', `/api/keys/${made.body.key.id}`, inOrg(env.admin, a.id))).status).toBe(200);
  });

  it('makes a team-owned key only for a team the caller manages, and needs a team for it', async () => {
    const dev = a.members.developer;
    const teamAdmin = a.members.team_admin;
    const noTeam = await env.call<ErrorBody>('POST', '/api/keys', {
      ...inOrg(teamAdmin, a.id),
      body: { name: 'x', teamOwned: true },
    });
    expect(noTeam.status).toBe(400);
    expect(noTeam.body.error.message).toContain('teamId');
    // A member of the team without keys.team (a developer) cannot.
    const member = await env.call<ErrorBody>('POST', '/api/keys', {
      ...inOrg(dev, a.id),
      body: { name: 'x', teamId: a.team.id, teamOwned: true },
    });
    expect(member.status).toBe(403);
    expect(member.body.error.message).toContain('keys.team');
    // An unknown team is not found.
    const unknown = await env.call<ErrorBody>('POST', '/api/keys', {
      ...inOrg(a.members.owner, a.id),
      body: { name: 'x', teamId: 'team_nope', teamOwned: true },
    });
    expect(unknown.status).toBe(404);
    expect(a.service).toMatchObject({ teamOwned: true, teamId: a.team.id, userId: teamAdmin.userId });
  });

  it('creates a key for another member only with keys.all, and only for a member', async () => {
    const refused = await env.call<ErrorBody>('POST', '/api/keys', {
      ...inOrg(a.members.team_admin, a.id),
      body: { name: 'x', userId: a.members.developer.userId },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('keys.all');
    // The platform admin's own account is a member of A (it created A) but another user of Default is not.
    const outsider = await env.call<{ id: string }>('POST', '/api/admin/users', {
      token: env.admin.token,
      body: { email: `outsider-${a.tag}@aihub.test`, password: 'correct horse 1' },
    });
    const notMember = await env.call<ErrorBody>('POST', '/api/keys', {
      ...inOrg(a.members.owner, a.id),
      body: { name: 'x', userId: outsider.body.id },
    });
    expect(notMember.status).toBe(400);
    expect(notMember.body.error.message).toContain('not a member');
    const made = await env.call<Created>('POST', '/api/keys', {
      ...inOrg(a.members.admin, a.id),
      body: { name: 'for dev', userId: a.members.developer.userId },
    });
    expect(made.status).toBe(201);
    expect(made.body.key).toMatchObject({ userId: a.members.developer.userId, orgId: a.id, teamOwned: false });
  });

  it('moves a key between teams within reach, and never takes a service key out of its team', async () => {
    const teamAdmin = a.members.team_admin;
    const own = a.personal.team_admin?.id as string;
    const into = await env.call<Key>('PATCH', `/api/keys/${own}`, {
      ...inOrg(teamAdmin, a.id),
      body: { teamId: a.team.id },
    });
    expect(into.status).toBe(200);
    expect(into.body.teamId).toBe(a.team.id);
    const other = await env.call('PATCH', `/api/keys/${own}`, {
      ...inOrg(teamAdmin, a.id),
      body: { teamId: a.otherTeam.id },
    });
    expect(other.status).toBe(403);
    const out = await env.call<Key>('PATCH', `/api/keys/${own}`, { ...inOrg(teamAdmin, a.id), body: { teamId: null } });
    expect(out.body.teamId).toBeNull();
    const orphan = await env.call<ErrorBody>('PATCH', `/api/keys/${a.service.id}`, {
      ...inOrg(a.members.owner, a.id),
      body: { teamId: null },
    });
    expect(orphan.status).toBe(400);
    const moved = await env.call<Key>('PATCH', `/api/keys/${a.otherService.id}`, {
      ...inOrg(a.members.owner, a.id),
      body: { teamId: a.team.id },
    });
    expect(moved.body).toMatchObject({ teamId: a.team.id, teamOwned: true });
    // Now in the team admin's team: they reach it.
    expect((await env.call('GET', `/api/keys/${a.otherService.id}`, inOrg(teamAdmin, a.id))).status).toBe(200);
    await env.call('PATCH', `/api/keys/${a.otherService.id}`, {
      ...inOrg(a.members.owner, a.id),
      body: { teamId: a.otherTeam.id },
    });
  });

  it('a viewer reads every key of the organization but changes none (403, not 404)', async () => {
    const viewer = a.members.viewer;
    expect((await env.call('GET', `/api/keys/${a.service.id}`, inOrg(viewer, a.id))).status).toBe(200);
    const admins = await env.call<{ total: number }>('GET', '/api/admin/keys', inOrg(viewer, a.id));
    expect(admins.body.total).toBeGreaterThanOrEqual(7);
    // A custom role with keys.read and keys.own: reads a colleague's key, may not change it.
    await env.call('POST', '/api/org/roles', {
      ...inOrg(a.members.owner, a.id),
      body: { key: 'reader', name: 'Reader', permissions: ['org.read', 'keys.own', 'keys.read'] },
    });
    await env.call('PATCH', `/api/org/members/${viewer.userId}`, {
      ...inOrg(a.members.owner, a.id),
      body: { role: 'reader' },
    });
    const change = await env.call<ErrorBody>('PATCH', `/api/keys/${a.service.id}`, {
      ...inOrg(viewer, a.id),
      body: { name: 'mine now' },
    });
    expect(change.status).toBe(403);
    expect(change.body.error.message).toContain('keys.all');
    await env.call('PATCH', `/api/org/members/${viewer.userId}`, {
      ...inOrg(a.members.owner, a.id),
      body: { role: 'viewer' },
    });
  });

  it('a service key keeps working when its creator is disabled or leaves; their own keys do not', async () => {
    const creator = a.members.team_admin;
    const ownSecret = a.personal.team_admin?.secret as string;
    expect(await chat(env.t.url, a.service.secret)).toBe(200);
    const off = await env.call('PATCH', `/api/admin/users/${creator.userId}`, {
      token: env.admin.token,
      body: { status: 'disabled' },
    });
    expect(off.status).toBe(200);
    expect(await chat(env.t.url, a.service.secret)).toBe(200);
    expect(await chat(env.t.url, ownSecret)).toBe(401);
    await env.call('PATCH', `/api/admin/users/${creator.userId}`, {
      token: env.admin.token,
      body: { status: 'active' },
    });
    expect(await chat(env.t.url, ownSecret)).toBe(200);
    const gone = await env.call('DELETE', `/api/org/members/${creator.userId}`, inOrg(a.members.owner, a.id));
    expect(gone.status).toBe(204);
    expect(await chat(env.t.url, a.service.secret)).toBe(200);
    expect(await chat(env.t.url, ownSecret)).toBe(401);
    const listed = await env.call<{ data: Key[] }>(
      'GET',
      `/api/admin/keys?teamId=${a.team.id}`,
      inOrg(a.members.owner, a.id),
    );
    expect(listed.body.data.find((k) => k.id === a.service.id)).toMatchObject({ status: 'active', teamOwned: true });
  });

  it('indexes keys by organization', async () => {
    const db = env.t.database.handle.db;
    const query = `SELECT id FROM api_keys WHERE org_id = 'x' ORDER BY created_at DESC`;
    const plan =
      engine === 'sqlite'
        ? (await sql<{ detail: string }>`EXPLAIN QUERY PLAN ${sql.raw(query)}`.execute(db)).rows.map((r) => r.detail)
        : await db.connection().execute(async (conn) => {
            await sql`SET enable_seqscan = off`.execute(conn);
            const rows = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${sql.raw(query)}`.execute(conn);
            await sql`RESET enable_seqscan`.execute(conn);
            return rows.rows.map((r) => r['QUERY PLAN']);
          });
    expect(plan.join('\n')).toContain('api_keys_org_idx');
  });
});
