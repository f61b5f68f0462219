import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorBody, MASTER_KEY, uniqueEmail } from '../support/accounts.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

interface Org {
  id: string;
  name: string;
  slug: string;
  members: number;
  allowedModels: string[] | null;
  priceMultiplier: number | null;
  require2fa: boolean;
}
interface Member {
  userId: string;
  email: string;
  role: string;
  teams: Array<{ id: string; role: string }>;
}
interface Role {
  key: string;
  permissions: string[];
  builtin: boolean;
  customized: boolean;
  members: number;
}

describe.each(ENGINES)('organizations, members and roles (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  let admin: SignedIn;
  let alice: SignedIn;
  let bob: SignedIn;
  let org: Org;
  const as = (who: SignedIn, orgId?: string): { token: string; headers: Record<string, string> } => ({
    token: who.token,
    headers: orgId ? { 'x-aihub-organization': orgId } : {},
  });

  beforeAll(async () => {
    t = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    call = client(t.url);
    admin = await register(call, uniqueEmail('platform-admin'));
    alice = await register(call, uniqueEmail('alice'));
    bob = await register(call, uniqueEmail('bob'));
    const created = await call<Org>('POST', '/api/organizations', { ...as(admin), body: { name: 'Acme Research' } });
    expect(created.status).toBe(201);
    org = created.body;
  });
  afterAll(async () => t?.close());

  it('puts existing accounts in the Default organization: the first admin as owner, others as developers', async () => {
    const me = await call<{ organization: { id: string; role: string }; permissions: string[] }>(
      'GET',
      '/api/me',
      as(alice),
    );
    expect(me.body.organization).toMatchObject({ id: 'org_default', role: 'developer' });
    expect(me.body.permissions).toEqual(expect.arrayContaining(['keys.own', 'logs.own']));
    expect(me.body.permissions).not.toContain('members.read');
    const members = await call<{ data: Member[] }>('GET', '/api/org/members', as(admin));
    expect(members.body.data.find((m) => m.email === admin.email)?.role).toBe('owner');
  });

  it('creates an organization with a slug; only platform admins unless self-serve is on', async () => {
    expect(org.slug).toBe('acme-research');
    const refused = await call<ErrorBody>('POST', '/api/organizations', { ...as(alice), body: { name: 'Mine' } });
    expect(refused.status).toBe(403);
    await call('PATCH', '/api/admin/settings', { token: MASTER_KEY, body: { allowSelfServeOrganizations: true } });
    const mine = await call<Org>('POST', '/api/organizations', { ...as(alice), body: { name: 'Alice Labs' } });
    expect(mine.status).toBe(201);
    const listed = await call<{ data: Array<{ id: string; role: string }> }>('GET', '/api/organizations', as(alice));
    expect(listed.body.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: mine.body.id, role: 'owner' })]),
    );
    await call('PATCH', '/api/admin/settings', { token: MASTER_KEY, body: { allowSelfServeOrganizations: false } });
    const dupe = await call<ErrorBody>('POST', '/api/organizations', {
      ...as(admin),
      body: { name: 'X', slug: 'acme-research' },
    });
    expect(dupe.status).toBe(409);
  });

  it('adds an existing account as a member, and the member switches to the organization by header', async () => {
    const added = await call<Member>('POST', '/api/org/members', {
      ...as(admin, org.id),
      body: { email: alice.email, role: 'viewer' },
    });
    expect(added.status).toBe(201);
    expect(added.body.role).toBe('viewer');
    const me = await call<{ organization: { id: string; role: string }; permissions: string[] }>(
      'GET',
      '/api/me',
      as(alice, org.slug),
    );
    expect(me.body.organization).toMatchObject({ id: org.id, role: 'viewer' });
    expect(me.body.permissions).toContain('members.read');
    expect(me.body.permissions).not.toContain('members.manage');
    // A viewer reads members but cannot add one.
    expect((await call('GET', '/api/org/members', as(alice, org.id))).status).toBe(200);
    const refused = await call<ErrorBody>('POST', '/api/org/members', {
      ...as(alice, org.id),
      body: { email: bob.email, role: 'developer' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('members.manage');
  });

  it('answers 404 to a non-member naming the organization, whether it exists or not', async () => {
    const other = await call<ErrorBody>('GET', '/api/org', as(bob, org.id));
    const missing = await call<ErrorBody>('GET', '/api/org', as(bob, 'org_nope'));
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(other.body.error.message.replace(org.id, 'X')).toBe(missing.body.error.message.replace('org_nope', 'X'));
  });

  it('refuses an unknown member email with 404 and a role the organization lacks with 400', async () => {
    expect(
      (
        await call('POST', '/api/org/members', {
          ...as(admin, org.id),
          body: { email: 'nobody@example.com', role: 'viewer' },
        })
      ).status,
    ).toBe(404);
    expect(
      (await call('POST', '/api/org/members', { ...as(admin, org.id), body: { email: bob.email, role: 'wizard' } }))
        .status,
    ).toBe(400);
  });

  it('keeps at least one owner and stops admins from granting more than they hold', async () => {
    await call('POST', '/api/org/members', { ...as(admin, org.id), body: { email: bob.email, role: 'admin' } });
    const members = await call<{ data: Member[] }>('GET', '/api/org/members', as(admin, org.id));
    const owners = members.body.data.filter((m) => m.role === 'owner');
    expect(owners).toHaveLength(1);
    const last = owners[0] as Member;
    const demote = await call<ErrorBody>('PATCH', `/api/org/members/${last.userId}`, {
      ...as(admin, org.id),
      body: { role: 'viewer' },
    });
    expect(demote.status).toBe(409);
    // bob (admin) cannot make someone owner, nor grant a role holding billing.manage.
    const owner = await call<ErrorBody>('PATCH', `/api/org/members/${alice.userId}`, {
      ...as(bob, org.id),
      body: { role: 'owner' },
    });
    expect(owner.status).toBe(403);
    const billing = await call<ErrorBody>('PATCH', `/api/org/members/${alice.userId}`, {
      ...as(bob, org.id),
      body: { role: 'billing_manager' },
    });
    expect(billing.status).toBe(403);
    expect(billing.body.error.message).toContain('billing.manage');
    const fine = await call<Member>('PATCH', `/api/org/members/${alice.userId}`, {
      ...as(bob, org.id),
      body: { role: 'auditor' },
    });
    expect(fine.status).toBe(200);
    expect(fine.body.role).toBe('auditor');
  });

  it('lists built-in roles, customizes one, creates, assigns and deletes a custom role', async () => {
    const roles = await call<{ data: Role[] }>('GET', '/api/org/roles', as(admin, org.id));
    expect(roles.body.data.map((r) => r.key)).toEqual(
      expect.arrayContaining(['owner', 'admin', 'billing_manager', 'team_admin', 'developer', 'viewer', 'auditor']),
    );
    const platform = await call<ErrorBody>('POST', '/api/org/roles', {
      ...as(admin, org.id),
      body: { key: 'ops', name: 'Ops', permissions: ['channels.manage'] },
    });
    expect(platform.status).toBe(400);
    const created = await call<Role>('POST', '/api/org/roles', {
      ...as(admin, org.id),
      body: { key: 'key_keeper', name: 'Key keeper', permissions: ['org.read', 'keys.read', 'keys.all'] },
    });
    expect(created.status).toBe(201);
    await call('PATCH', `/api/org/members/${alice.userId}`, { ...as(admin, org.id), body: { role: 'key_keeper' } });
    const me = await call<{ permissions: string[] }>('GET', '/api/me', as(alice, org.id));
    expect(me.body.permissions.sort()).toEqual(['keys.all', 'keys.read', 'org.read']);
    const inUse = await call<ErrorBody>('DELETE', '/api/org/roles/key_keeper', as(admin, org.id));
    expect(inUse.status).toBe(409);
    // Customizing a built-in role applies at once; deleting it resets the default.
    const custom = await call<Role>('PATCH', '/api/org/roles/viewer', {
      ...as(admin, org.id),
      body: { permissions: ['org.read'] },
    });
    expect(custom.body).toMatchObject({ customized: true, permissions: ['org.read'] });
    expect(
      (await call('PATCH', '/api/org/roles/owner', { ...as(admin, org.id), body: { permissions: [] } })).status,
    ).toBe(409);
    expect((await call('DELETE', '/api/org/roles/viewer', as(admin, org.id))).status).toBe(204);
    const reset = await call<{ data: Role[] }>('GET', '/api/org/roles', as(admin, org.id));
    expect(reset.body.data.find((r) => r.key === 'viewer')).toMatchObject({ customized: false });
    expect(reset.body.data.find((r) => r.key === 'viewer')?.permissions).toContain('members.read');
  });

  it('changes the organization settings with org.manage only', async () => {
    const patched = await call<Org>('PATCH', '/api/org', {
      ...as(admin, org.id),
      body: { allowedModels: ['gpt-*'], priceMultiplier: 1.25, require2fa: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ allowedModels: ['gpt-*'], priceMultiplier: 1.25 });
    expect((await call('PATCH', '/api/org', { ...as(alice, org.id), body: { name: 'Hijack' } })).status).toBe(403);
    expect((await call('PATCH', '/api/org', { ...as(admin, org.id), body: { priceMultiplier: -1 } })).status).toBe(400);
  });

  it('refuses to require 2FA from an admin who has none themselves (it would lock them out)', async () => {
    const res = await call<ErrorBody>('PATCH', '/api/org', { ...as(bob, org.id), body: { require2fa: true } });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('two-factor');
    expect((await call<Org>('GET', '/api/org', as(bob, org.id))).body.require2fa).toBe(false);
  });

  it("shows another organization's member with the current organization, and keeps account-wide limits to platform admins", async () => {
    // bob's home is Default; in Acme, its admin sees him as Acme's.
    const seen = await call<{ orgId: string }>('GET', `/api/admin/users/${bob.userId}`, as(bob, org.id));
    expect(seen.status).toBe(200);
    expect(seen.body.orgId).toBe(org.id);
    const listed = await call<{ data: Array<{ id: string; orgId: string }> }>(
      'GET',
      '/api/admin/users',
      as(bob, org.id),
    );
    expect(listed.body.data.every((u) => u.orgId === org.id)).toBe(true);
    // bob belongs to two organizations: Acme's admin cannot read or set his account-wide limits.
    const limits = await call<ErrorBody>('GET', `/api/admin/limits/user/${bob.userId}`, as(bob, org.id));
    expect(limits.status).toBe(403);
    expect(
      (await call('PATCH', `/api/admin/limits/user/${bob.userId}`, { ...as(bob, org.id), body: { rpm: 1 } })).status,
    ).toBe(403);
    expect((await call('GET', `/api/admin/limits/user/${bob.userId}`, as(admin, org.id))).status).toBe(200);
  });

  it('removes a member: their keys there are revoked, the team-owned keys stay', async () => {
    const key = await call<{ key: { id: string }; secret: string }>('POST', '/api/keys', {
      ...as(alice, org.id),
      body: { name: 'mine in acme' },
    });
    expect(key.status).toBe(201);
    expect((await call('DELETE', `/api/org/members/${alice.userId}`, as(admin, org.id))).status).toBe(204);
    const models = await fetch(`${t.url}/v1/models`, { headers: { authorization: `Bearer ${key.body.secret}` } });
    expect(models.status).toBe(401);
    expect((await call('GET', '/api/org', as(alice, org.id))).status).toBe(404);
    const audit = await call<{ data: Array<{ action: string }> }>(
      'GET',
      '/api/admin/audit?action=member.remove',
      as(admin, org.id),
    );
    expect(audit.body.data.length).toBeGreaterThanOrEqual(1);
  });

  it('disables and deletes organizations as a platform admin only', async () => {
    const empty = await call<Org>('POST', '/api/organizations', { ...as(admin), body: { name: 'Short lived' } });
    expect((await call('DELETE', `/api/admin/organizations/${empty.body.id}`, as(bob))).status).toBe(403);
    expect((await call('DELETE', `/api/admin/organizations/${org.id}`, as(admin))).status).toBe(409);
    expect((await call('DELETE', '/api/admin/organizations/org_default', as(admin))).status).toBe(409);
    expect((await call('DELETE', `/api/admin/organizations/${empty.body.id}`, as(admin))).status).toBe(204);
    const disabled = await call<Org>('PATCH', `/api/admin/organizations/${org.id}`, {
      ...as(admin),
      body: { status: 'disabled' },
    });
    expect(disabled.status).toBe(200);
    expect((await call<ErrorBody>('GET', '/api/org', as(bob, org.id))).status).toBe(403);
    await call('PATCH', `/api/admin/organizations/${org.id}`, { ...as(admin), body: { status: 'active' } });
    expect((await call('GET', '/api/org', as(bob, org.id))).status).toBe(200);
  });
});
