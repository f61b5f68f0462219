/**
 * Two (or more) organizations built through the API, for isolation tests: in each, one member per built-in
 * role (accounts made by a platform admin in that organization, signed in), two teams (the team admin and the
 * developer in the first), personal keys, a personal key billed to the first team, a team-owned (service) key
 * in each team, one /v1 request per key (the built-in mock model, bodies logged), a custom role and limits on
 * a member, a team and the organization. Every name, email and slug carries the organization's tag, so a
 * test can look for any of them in an answer.
 */
import { seedDemo } from '../../src/demo.js';
import { MASTER_KEY } from './accounts.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp, type TestAppOptions } from './app.js';
import type { EngineName } from './databases.js';

/** The built-in roles (src/modules/access/permissions.ts); the isolation test checks this list is complete. */
export const ROLE_KEYS = ['owner', 'admin', 'billing_manager', 'team_admin', 'developer', 'viewer', 'auditor'] as const;
export type RoleKey = (typeof ROLE_KEYS)[number];

export interface TenantMember extends SignedIn {
  role: RoleKey;
  name: string;
}

export interface TenantKey {
  id: string;
  secret: string;
  hint: string;
  /** Who owns it (the creator, for a team-owned key). */
  userId: string;
  teamId: string | null;
  teamOwned: boolean;
}

export interface TenantOrg {
  id: string;
  slug: string;
  name: string;
  /** A short random tag in every name, email and slug of this organization. */
  tag: string;
  members: Record<RoleKey, TenantMember>;
  /** The first team: the team admin (team role admin) and the developer (member). */
  team: { id: string; name: string };
  /** A second team with no members but a service key. */
  otherTeam: { id: string; name: string };
  /** Personal keys of the members who may hold keys, by role. */
  personal: Partial<Record<RoleKey, TenantKey>>;
  /** The developer's personal key billed to `team`. */
  devTeamKey: TenantKey;
  /** Team-owned keys of `team` (made by its team admin) and of `otherTeam` (made by the owner). */
  service: TenantKey;
  otherService: TenantKey;
  /** Request-log ids, by the key that made them. */
  logs: Map<string, string>;
  customRole: string;
  /** The organization's SSO connection (made by its owner; never contacted). */
  ssoConnection: string;
  /** A sign-in (session) of its developer. */
  sessionId: string;
  /** An open invitation of an outsider to `team` (made by the owner). */
  invitation: { id: string; email: string };
  /** A job of the organization started by its developer (queued: no worker runs in the tenancy app). */
  job: string;
  /** A saved analytics view of its owner. */
  analyticsView: string;
  /** Every string of this organization a leak would show (ids, emails, names, hints, slug). */
  secrets: string[];
}

export interface Tenancy {
  t: TestApp;
  call: Call;
  /** The platform admin who built everything. */
  admin: SignedIn;
  orgs: TenantOrg[];
  close(): Promise<void>;
}

const PASSWORD = 'correct horse 1';

/** Options of a call as `who` in organization `orgId`. */
export function inOrg(who: { token: string }, orgId: string): { token: string; headers: Record<string, string> } {
  return { token: who.token, headers: { 'x-aihub-organization': orgId } };
}

async function ok<T>(call: Call, method: string, path: string, options: Parameters<Call>[2], status = 200): Promise<T> {
  const res = await call<T>(method, path, options);
  if (res.status !== status)
    throw new Error(`${method} ${path} answered ${res.status} (expected ${status}): ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Start an app with `count` organizations built as described above. */
export async function startTenancy(
  engine: EngineName,
  count = 2,
  options: Pick<TestAppOptions, 'backend' | 'env'> = {},
): Promise<Tenancy> {
  const t = await startTestApp({
    engine,
    backend: options.backend,
    env: { AIHUB_MASTER_KEY: MASTER_KEY, ...options.env },
  });
  const call = client(t.url);
  const admin = await register(call, `platform-${Math.random().toString(36).slice(2, 8)}@aihub.test`);
  await seedDemo(t.services);
  await ok(call, 'PATCH', '/api/admin/settings', { token: MASTER_KEY, body: { logBodies: 'all' } });
  const orgs: TenantOrg[] = [];
  for (let i = 0; i < count; i++) orgs.push(await buildOrg(t, call, admin));
  return { t, call, admin, orgs, close: () => t.close() };
}

async function buildOrg(t: TestApp, call: Call, admin: SignedIn): Promise<TenantOrg> {
  const tag = `t${Math.random().toString(36).slice(2, 8)}`;
  const org = await ok<{ id: string; slug: string; name: string }>(
    call,
    'POST',
    '/api/organizations',
    { token: admin.token, body: { name: `Org ${tag}`, slug: `org-${tag}` } },
    201,
  );
  const as = (who: { token: string }) => inOrg(who, org.id);

  // One account per built-in role, made by the platform admin in this organization (their home), then signed
  // in — except the auditor, who registers (home: Default) and is added by the owner through the members
  // API: a member of two organizations.
  const members = {} as Record<RoleKey, TenantMember>;
  const made = ROLE_KEYS.filter((role) => role !== 'auditor');
  await Promise.all(
    made.map(async (role) => {
      const email = `${role.replace('_', '-')}-${tag}@aihub.test`;
      const name = `${role} ${tag}`;
      const user = await ok<{ id: string }>(
        call,
        'POST',
        '/api/admin/users',
        { ...as(admin), body: { email, password: PASSWORD, name, orgRole: role } },
        201,
      );
      const session = await ok<{ accessToken: string }>(call, 'POST', '/api/auth/login', {
        body: { email, password: PASSWORD },
      });
      members[role] = { role, name, email, userId: user.id, token: session.accessToken, cookie: '' };
    }),
  );
  const auditor = await register(call, `auditor-${tag}@aihub.test`, PASSWORD);
  await ok(
    call,
    'POST',
    '/api/org/members',
    { ...as(members.owner), body: { email: auditor.email, role: 'auditor' } },
    201,
  );
  members.auditor = { ...auditor, role: 'auditor', name: `auditor-${tag}` };
  const owner = members.owner;

  const team = await ok<{ id: string; name: string }>(
    call,
    'POST',
    '/api/org/teams',
    { ...as(owner), body: { name: `team ${tag}` } },
    201,
  );
  const otherTeam = await ok<{ id: string; name: string }>(
    call,
    'POST',
    '/api/org/teams',
    { ...as(owner), body: { name: `other team ${tag}` } },
    201,
  );
  await ok(
    call,
    'POST',
    `/api/org/teams/${team.id}/members`,
    { ...as(owner), body: { userId: members.team_admin.userId, role: 'admin' } },
    201,
  );
  await ok(
    call,
    'POST',
    `/api/org/teams/${team.id}/members`,
    { ...as(owner), body: { userId: members.developer.userId, role: 'member' } },
    201,
  );

  type Created = {
    secret: string;
    key: { id: string; hint: string; userId: string; teamId: string | null; teamOwned: boolean };
  };
  const newKey = async (who: { token: string }, body: Record<string, unknown>): Promise<TenantKey> => {
    const { secret, key } = await ok<Created>(call, 'POST', '/api/keys', { ...as(who), body }, 201);
    return { id: key.id, secret, hint: key.hint, userId: key.userId, teamId: key.teamId, teamOwned: key.teamOwned };
  };
  const personal: Partial<Record<RoleKey, TenantKey>> = {};
  for (const role of ['owner', 'admin', 'team_admin', 'developer'] as const)
    personal[role] = await newKey(members[role], { name: `${role} key ${tag}` });
  const devTeamKey = await newKey(owner, {
    name: `dev team key ${tag}`,
    userId: members.developer.userId,
    teamId: team.id,
  });
  const service = await newKey(members.team_admin, { name: `service ${tag}`, teamId: team.id, teamOwned: true });
  const otherService = await newKey(owner, { name: `other service ${tag}`, teamId: otherTeam.id, teamOwned: true });

  // One request per key through /v1.
  const logs = new Map<string, string>();
  for (const key of [...Object.values(personal), devTeamKey, service, otherService]) {
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: `hello from ${tag}` }] }),
    });
    await res.text();
    const requestId = res.headers.get('x-request-id');
    if (res.status !== 200 || !requestId) throw new Error(`/v1 with ${key.id} answered ${res.status}`);
    logs.set(key.id, requestId);
  }
  await t.services.recorder.flush();

  const customRole = `${tag}_role`;
  await ok(
    call,
    'POST',
    '/api/org/roles',
    { ...as(owner), body: { key: customRole, name: `role ${tag}`, permissions: ['org.read'] } },
    201,
  );
  await ok(call, 'PATCH', `/api/admin/limits/user/${members.developer.userId}`, { ...as(owner), body: { rpm: 1000 } });
  await ok(call, 'PATCH', `/api/admin/limits/team/${team.id}`, { ...as(owner), body: { rpm: 1000 } });
  await ok(call, 'PATCH', `/api/admin/limits/org/${org.id}`, { ...as(owner), body: { rpm: 1000 } });
  const invitation = await ok<{ id: string; email: string }>(
    call,
    'POST',
    '/api/org/invitations',
    { ...as(owner), body: { email: `invited-${tag}@aihub.test`, role: 'developer', teamId: team.id } },
    201,
  );

  const sso = await ok<{ id: string }>(
    call,
    'POST',
    '/api/org/sso',
    {
      ...as(owner),
      body: { name: `sso ${tag}`, issuer: `https://idp-${tag}.example.com`, clientId: `client-${tag}` },
    },
    201,
  );
  const sessions = await ok<{ data: Array<{ id: string }> }>(call, 'GET', '/api/me/sessions', as(members.developer));
  const sessionId = sessions.data[0]?.id as string;

  const job = await t.services.jobs.enqueue('usage.purge-logs', null, {
    orgId: org.id,
    userId: members.developer.userId,
  });
  const view = await ok<{ id: string }>(
    call,
    'POST',
    '/api/analytics/views',
    { ...as(members.owner), body: { name: `view ${tag}`, query: { groupBy: 'model' } } },
    201,
  );
  const keys = [...Object.values(personal), devTeamKey, service, otherService];
  const secrets = [
    job.id,
    view.id,
    org.id,
    org.slug,
    org.name,
    tag,
    team.id,
    otherTeam.id,
    ...Object.values(members).flatMap((m) => [m.userId, m.email]),
    ...keys.flatMap((k) => [k.id, k.hint]),
    ...logs.values(),
    sso.id,
    sessionId,
    invitation.id,
    invitation.email,
  ];
  return {
    ...org,
    tag,
    members,
    team,
    otherTeam,
    personal,
    devTeamKey,
    service,
    otherService,
    logs,
    customRole,
    ssoConnection: sso.id,
    sessionId,
    invitation: { id: invitation.id, email: invitation.email },
    job: job.id,
    analyticsView: view.id,
    secrets,
  };
}

/** Every key of the organization. */
export function keysOf(org: TenantOrg): TenantKey[] {
  return [...Object.values(org.personal), org.devTeamKey, org.service, org.otherService];
}

/**
 * Everything stored about an organization (its row, members and their accounts, teams, roles, keys, limits,
 * request logs and audit rows), to show that calls from elsewhere changed nothing.
 */
export async function snapshotOrg(t: TestApp, org: TenantOrg): Promise<string> {
  await t.services.recorder.flush();
  const db = t.database.handle.db;
  const userIds = Object.values(org.members).map((m) => m.userId);
  const [organization, users, memberships, teams, roles, keys, limits, logs, audit, invitations] = await Promise.all([
    db.selectFrom('organizations').selectAll().where('id', '=', org.id).execute(),
    db.selectFrom('users').selectAll().where('id', 'in', userIds).orderBy('id').execute(),
    db.selectFrom('memberships').selectAll().where('org_id', '=', org.id).orderBy('id').execute(),
    db.selectFrom('teams').selectAll().where('org_id', '=', org.id).orderBy('id').execute(),
    db.selectFrom('roles').selectAll().where('org_id', '=', org.id).orderBy('id').execute(),
    db.selectFrom('api_keys').selectAll().where('org_id', '=', org.id).orderBy('id').execute(),
    db
      .selectFrom('limit_policies')
      .selectAll()
      .where('scope_id', 'in', [org.id, org.team.id, org.otherTeam.id, ...userIds])
      .orderBy('scope_type')
      .orderBy('scope_id')
      .execute(),
    db.selectFrom('request_logs').select(['id', 'status']).where('org_id', '=', org.id).orderBy('id').execute(),
    db.selectFrom('audit_logs').select(['id', 'action']).where('org_id', '=', org.id).orderBy('id').execute(),
    db.selectFrom('invitations').selectAll().where('org_id', '=', org.id).orderBy('id').execute(),
  ]);
  // PostgreSQL answers bigint columns as strings: compare as text either way.
  return JSON.stringify({ organization, users, memberships, teams, roles, keys, limits, logs, audit, invitations });
}
