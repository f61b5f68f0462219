/**
 * How the wave-1 modules honour the current organization beyond the isolation matrix: who may create and
 * change accounts, the audit log's instance-wide rows, limits of another organization for platform admins,
 * log scopes and the master key's requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorBody, MASTER_KEY } from '../support/accounts.js';
import { ENGINES } from '../support/databases.js';
import { inOrg, startTenancy, type Tenancy, type TenantOrg } from '../support/tenancy.js';

interface User {
  id: string;
  email: string;
  orgId: string;
}

describe.each(ENGINES)('scoping by organization (%s)', (engine) => {
  let env: Tenancy;
  let a: TenantOrg;
  let b: TenantOrg;
  beforeAll(async () => {
    env = await startTenancy(engine, 2);
    [a, b] = env.orgs as [TenantOrg, TenantOrg];
  }, 90_000);
  afterAll(async () => env?.close());

  describe('users', () => {
    it("lists the current organization's members without platform.users, every account with it", async () => {
      const owner = await env.call<{ data: User[]; total: number }>(
        'GET',
        '/api/admin/users?limit=100',
        inOrg(a.members.owner, a.id),
      );
      expect(owner.body.data.map((u) => u.id)).toEqual(
        expect.arrayContaining(Object.values(a.members).map((m) => m.userId)),
      );
      expect(owner.body.data.some((u) => u.email.includes(b.tag))).toBe(false);
      const platform = await env.call<{ data: User[]; total: number }>('GET', '/api/admin/users?limit=100', {
        token: env.admin.token,
      });
      expect(platform.body.total).toBeGreaterThan(owner.body.total);
      expect(platform.body.data.some((u) => u.email.includes(b.tag))).toBe(true);
      const search = await env.call<{ total: number }>(
        'GET',
        `/api/admin/users?search=${b.tag}`,
        inOrg(a.members.admin, a.id),
      );
      expect(search.body.total).toBe(0);
    });

    it('creating and changing accounts needs platform.users; organization admins use the members API', async () => {
      for (const [method, path] of [
        ['POST', '/api/admin/users'],
        ['PATCH', `/api/admin/users/${a.members.developer.userId}`],
      ] as const) {
        const res = await env.call<ErrorBody>(method, path, {
          ...inOrg(a.members.owner, a.id),
          body: { email: 'x@aihub.test', password: 'correct horse 1' },
        });
        expect(res.status).toBe(403);
        expect(res.body.error.message).toContain('platform.users');
      }
    });

    it('creates an account in the current organization with the role asked for (developer by default)', async () => {
      const made = await env.call<User>('POST', '/api/admin/users', {
        ...inOrg(env.admin, b.id),
        body: { email: `made-${b.tag}@aihub.test`, password: 'correct horse 1', orgRole: 'auditor' },
      });
      expect(made.status).toBe(201);
      expect(made.body.orgId).toBe(b.id);
      const member = await env.call<{ role: string }>(
        'GET',
        `/api/org/members/${made.body.id}`,
        inOrg(b.members.owner, b.id),
      );
      expect(member.body.role).toBe('auditor');
      const plain = await env.call<User>('POST', '/api/admin/users', {
        ...inOrg(env.admin, b.id),
        body: { email: `plain-${b.tag}@aihub.test`, password: 'correct horse 1' },
      });
      const plainMember = await env.call<{ role: string }>(
        'GET',
        `/api/org/members/${plain.body.id}`,
        inOrg(b.members.owner, b.id),
      );
      expect(plainMember.body.role).toBe('developer');
      // A role the organization does not have is refused, and no account is made.
      const bad = await env.call<ErrorBody>('POST', '/api/admin/users', {
        ...inOrg(env.admin, b.id),
        body: { email: `bad-${b.tag}@aihub.test`, password: 'correct horse 1', orgRole: 'wizard' },
      });
      expect(bad.status).toBe(400);
      expect(
        (await env.call<{ total: number }>('GET', `/api/admin/users?search=bad-${b.tag}`, { token: env.admin.token }))
          .body.total,
      ).toBe(0);
      // Its audit row belongs to B.
      const audit = await env.call<{ data: Array<{ action: string; targetId: string }> }>(
        'GET',
        '/api/admin/audit?action=user.create',
        inOrg(b.members.auditor, b.id),
      );
      expect(audit.body.data.map((r) => r.targetId)).toContain(made.body.id);
    });
  });

  describe('audit', () => {
    it("shows the organization's rows; platform admins also see the instance's own", async () => {
      await env.call('PATCH', '/api/admin/settings', { token: MASTER_KEY, body: { logRetentionDays: 90 } });
      const auditor = await env.call<{ data: Array<{ action: string; targetId: string | null }> }>(
        'GET',
        '/api/admin/audit?limit=500',
        inOrg(a.members.auditor, a.id),
      );
      const actions = new Set(auditor.body.data.map((r) => r.action));
      expect(actions.has('key.create')).toBe(true);
      expect(actions.has('team.create')).toBe(true);
      expect(actions.has('settings.update')).toBe(false);
      const platform = await env.call<{ data: Array<{ action: string }> }>(
        'GET',
        '/api/admin/audit?limit=500',
        inOrg(env.admin, a.id),
      );
      expect(platform.body.data.some((r) => r.action === 'settings.update')).toBe(true);
      expect(platform.body.data.some((r) => r.action === 'key.create')).toBe(true);
    });

    it('records sign-ins in the account’s home organization', async () => {
      await env.call('POST', '/api/auth/login', {
        body: { email: a.members.viewer.email, password: 'correct horse 1' },
      });
      const audit = await env.call<{ data: Array<{ action: string; targetId: string | null }> }>(
        'GET',
        `/api/admin/audit?action=auth.login&targetId=${a.members.viewer.userId}`,
        inOrg(a.members.auditor, a.id),
      );
      expect(audit.body.data.length).toBeGreaterThan(0);
    });
  });

  describe('limits', () => {
    it("sets the current organization's limits; only platform admins reach another organization's", async () => {
      const own = await env.call('GET', `/api/admin/limits/org/${a.id}`, inOrg(a.members.owner, a.id));
      expect(own.status).toBe(200);
      const other = await env.call('GET', `/api/admin/limits/org/${b.id}`, inOrg(a.members.owner, a.id));
      expect(other.status).toBe(404);
      const platform = await env.call<{ limits: { rpm: number | null } }>(
        'GET',
        `/api/admin/limits/org/${b.id}`,
        inOrg(env.admin, a.id),
      );
      expect(platform.status).toBe(200);
      expect(platform.body.limits.rpm).toBe(1000);
      // Users and teams: of the current organization only, even for platform admins (switch first).
      expect((await env.call('GET', `/api/admin/limits/team/${b.team.id}`, inOrg(env.admin, a.id))).status).toBe(404);
      expect((await env.call('GET', `/api/admin/limits/team/${b.team.id}`, inOrg(env.admin, b.id))).status).toBe(200);
    });
  });

  describe('logs', () => {
    it('narrows /api/logs with scope, never widening past the role', async () => {
      const teamAdmin = a.members.team_admin;
      const ids = async (query: string) =>
        (
          await env.call<{ data: Array<{ id: string }> }>('GET', `/api/logs${query}`, inOrg(teamAdmin, a.id))
        ).body.data.map((r) => r.id);
      const own = await ids('?scope=own');
      const team = await ids('?scope=team');
      const widest = await ids('?scope=all');
      // Own: the requests made under their account — their key's, and those of the service key they created.
      expect(own.sort()).toEqual([a.logs.get(a.personal.team_admin?.id as string), a.logs.get(a.service.id)].sort());
      // Team: and the developer's key billed to the team.
      expect(team.sort()).toEqual([...own, a.logs.get(a.devTeamKey.id)].sort());
      expect(widest.sort()).toEqual(team.sort());
      const csv = await env.call<string>('GET', '/api/logs/export.csv?scope=own', inOrg(teamAdmin, a.id));
      expect(csv.body.trim().split('\n')).toHaveLength(3);
    });

    it("shows the master key's requests (no organization) to platform admins in the Default organization only", async () => {
      const res = await fetch(`${env.t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.text();
      const id = res.headers.get('x-request-id') as string;
      await env.t.services.recorder.flush();
      expect((await env.call('GET', `/api/admin/logs/${id}`, { token: env.admin.token })).status).toBe(200);
      expect((await env.call('GET', `/api/admin/logs/${id}`, inOrg(env.admin, a.id))).status).toBe(404);
      expect((await env.call('GET', `/api/admin/logs/${id}`, inOrg(a.members.owner, a.id))).status).toBe(404);
    });
  });
});
