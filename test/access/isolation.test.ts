/**
 * The isolation matrix (issue #17): a member of organization A, whatever their role, can never read, change,
 * count or infer anything of organization B. Every /api operation of /openapi.json is called, so a new route
 * is covered by this test as soon as it exists: lists and totals (A's only), every id parameter with B's ids
 * (404, or 403 where the role lacks the route's permission anyway), ids in query strings and bodies, the
 * organization header, and /v1 keys on the usage API. B's stored data is compared before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ROLE_KEYS } from '../../src/modules/access/permissions.js';
import type { ErrorBody } from '../support/accounts.js';
import { ENGINES } from '../support/databases.js';
import {
  inOrg,
  keysOf,
  ROLE_KEYS,
  type RoleKey,
  snapshotOrg,
  startTenancy,
  type Tenancy,
  type TenantMember,
  type TenantOrg,
} from '../support/tenancy.js';

interface Operation {
  'x-permission'?: unknown;
  parameters?: Array<{ in: string; name: string }>;
}
type Paths = Record<string, Record<string, Operation>>;

/**
 * The kind of id each path parameter takes, by the path it sits in. A new route with an id parameter fails the
 * matrix until its kind is named here (and, if its ids belong to an organization, B's id of that kind is known).
 */
const ID_KINDS: Array<[RegExp, string, Record<string, IdKind>]> = [
  [/^\/api\/admin\/organizations\/\{id\}/, 'organization', { id: 'org', teamId: 'team', walletId: 'member_wallet' }],
  [/^\/api\/org\/members\/\{userId\}/, 'member', { userId: 'user' }],
  [/^\/api\/org\/roles\/\{key\}/, 'role', { key: 'role' }],
  [/^\/api\/admin\/users\/\{id\}/, 'user', { id: 'user' }],
  [/^\/api\/keys\/\{id\}/, 'key', { id: 'key' }],
  [/^\/api\/(admin\/)?logs\/\{id\}/, 'log', { id: 'log' }],
  [/^\/api\/org\/teams\/\{id\}/, 'team', { id: 'team', userId: 'user' }],
  [/^\/api\/admin\/limits\/\{scope\}\/\{id\}/, 'limits', { id: 'scope_target' }],
  // Instance-wide (platform) objects: no organization owns them; org roles are refused (403).
  [/^\/api\/admin\/channels\/\{id\}/, 'channel', { id: 'platform' }],
  [/^\/api\/admin\/models\/\{id\}/, 'model', { id: 'platform' }],
  [/^\/api\/admin\/ip-rules\/\{id\}/, 'ip rule', { id: 'platform' }],
  [/^\/api\/admin\/alerts\/rules\/\{id\}/, 'alert rule', { id: 'platform' }],
  [/^\/api\/admin\/alerts\/destinations\/\{id\}/, 'alert destination', { id: 'platform' }],
  [/^\/api\/admin\/billing\/redemption-batches\/\{id\}/, 'redemption batch', { id: 'platform' }],
  [/^\/api\/admin\/billing\/plans\/\{id\}/, 'billing plan', { id: 'platform' }],
  [/^\/api\/admin\/billing\/pricing-groups\/\{id\}/, 'pricing group', { id: 'platform' }],
  [/^\/api\/(admin\/)?billing\/statements\/\{id\}/, 'statement', { id: 'statement' }],
  [/^\/api\/org\/sso\/\{id\}/, 'sso connection', { id: 'sso', testId: 'sso_test' }],
  [/^\/api\/admin\/sso\/\{id\}/, 'instance sso connection', { id: 'sso', testId: 'sso_test' }],
  [/^\/api\/me\/sessions\/\{id\}/, 'session', { id: 'session' }],
  // Public by design: anyone may start the sign-in of any connection (the IdP decides who gets in).
  [/^\/api\/auth\/sso\/\{id\}\/start$/, 'sso start', { id: 'public' }],
  [/^\/api\/org\/invitations\/\{id\}/, 'invitation', { id: 'invitation' }],
  // An invitation link's token is a capability of whoever holds it, not an id to guess (test/invitations/).
  [/^\/api\/invitations\/\{token\}/, 'invitation link', { token: 'token' }],
  [/^\/api\/(admin\/)?jobs\/\{id\}/, 'job', { id: 'job' }],
  // A log export is a job of its user.
  [/^\/api\/logs\/exports\/\{id\}/, 'log export', { id: 'job' }],
  [/^\/api\/analytics\/views\/\{id\}/, 'analytics view', { id: 'analytics_view' }],
  // A Checkout session lives at Stripe (not configured here); another organization's session is 404 in
  // test/billing/stripe-topup.test.ts against the Stripe fake.
  [/^\/api\/billing\/stripe\/checkout\/\{sessionId\}/, 'checkout session', { sessionId: 'stripe_session' }],
  // Schedules are the instance's own (platform.settings): org roles are refused.
  [/^\/api\/admin\/jobs\/schedules\/\{name\}/, 'job schedule', { name: 'platform' }],
];
type IdKind =
  | 'org'
  | 'user'
  | 'role'
  | 'key'
  | 'log'
  | 'team'
  | 'invitation'
  | 'token'
  | 'scope_target'
  | 'platform'
  | 'sso'
  | 'sso_test'
  | 'session'
  | 'job'
  | 'statement'
  | 'analytics_view'
  | 'member_wallet'
  | 'stripe_session'
  | 'public';

/** Bodies for the writes an organization role can reach, so validation does not answer before the lookup. */
function bodyFor(method: string, path: string, b: TenantOrg): unknown {
  if (method === 'get' || method === 'delete') return undefined;
  if (path === '/api/keys/{id}') return { name: 'renamed' };
  if (path === '/api/keys/{id}/rotate') return undefined;
  if (path === '/api/org/members/{userId}') return { role: 'viewer' };
  if (path === '/api/org/roles/{key}') return { name: 'renamed' };
  if (path === '/api/admin/limits/{scope}/{id}') return { rpm: 5 };
  if (path === '/api/org/teams/{id}') return { name: 'renamed' };
  if (path === '/api/org/teams/{id}/members') return { userId: b.members.developer.userId, role: 'member' };
  if (path === '/api/org/teams/{id}/members/{userId}') return { role: 'admin' };
  if (path === '/api/org/sso/{id}' || path === '/api/admin/sso/{id}') return { name: 'renamed' };
  return {};
}

function declared(op: Operation): string[] | 'public' | 'signed_in' {
  const value = op['x-permission'];
  if (value === 'public' || value === 'signed_in') return value;
  return Array.isArray(value) ? (value as string[]) : [value as string];
}

/** B's statements (issued in beforeAll). */
let statementsOfB: string[] = [];
/** B's team wallet (funded in beforeAll). */
let memberWalletsOfB: string[] = [];

/** B's ids of one kind. */
function idsOf(kind: IdKind, b: TenantOrg): string[] {
  switch (kind) {
    case 'org':
      return [b.id, b.slug];
    case 'user':
      return [b.members.owner.userId, b.members.developer.userId];
    case 'role':
      return [b.customRole];
    case 'key':
      return [b.personal.developer?.id as string, b.service.id];
    case 'log':
      return [b.logs.get(b.service.id) as string, b.logs.get(b.personal.owner?.id as string) as string];
    case 'team':
      return [b.team.id];
    case 'sso':
      return [b.ssoConnection];
    case 'sso_test':
      return ['ssotest_00000000'];
    case 'session':
      return [b.sessionId];
    case 'invitation':
      return [b.invitation.id];
    case 'job':
      return [b.job];
    case 'statement':
      return statementsOfB;
    case 'analytics_view':
      return [b.analyticsView];
    case 'member_wallet':
      return memberWalletsOfB;
    case 'stripe_session':
    case 'token':
    case 'scope_target':
    case 'platform':
    case 'public':
      return [];
  }
}

/** Concrete URLs of an operation with B's ids in every id parameter. */
function urlsWithIdsOf(path: string, b: TenantOrg, channelId: string): string[] {
  const match = ID_KINDS.find(([pattern]) => pattern.test(path));
  if (!match)
    throw new Error(`${path}: name the kind of its id parameters in ID_KINDS (test/access/isolation.test.ts)`);
  const kinds = match[2];
  if (path.includes('{scope}'))
    return [
      `/api/admin/limits/user/${b.members.developer.userId}`,
      `/api/admin/limits/team/${b.team.id}`,
      `/api/admin/limits/org/${b.id}`,
    ];
  let urls = [path];
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    const kind = kinds[name as string];
    if (!kind) throw new Error(`${path}: name the kind of {${name}} in ID_KINDS`);
    const values = kind === 'platform' ? [channelId] : idsOf(kind, b);
    urls = urls.flatMap((u) => values.map((v) => u.replace(`{${name}}`, encodeURIComponent(v))));
  }
  return urls;
}

/** B's ids that a query parameter of this name takes. */
function queryIdsOf(name: string, b: TenantOrg): string[] {
  switch (name) {
    case 'userId':
    case 'actorId':
      return [b.members.owner.userId, b.members.developer.userId];
    case 'keyId':
      return [b.service.id, b.personal.developer?.id as string];
    case 'teamId':
      return [b.team.id];
    case 'targetId':
      return [b.members.developer.userId, b.service.id, b.team.id];
    default:
      return [];
  }
}

function leaks(text: string, b: TenantOrg): string[] {
  return b.secrets.filter((s) => text.includes(s));
}

describe.each(ENGINES)('isolation between organizations (%s)', (engine) => {
  let env: Tenancy;
  let a: TenantOrg;
  let b: TenantOrg;
  let paths: Paths;
  let before: string;
  const permissionsOf = new Map<RoleKey, Set<string>>();

  beforeAll(async () => {
    env = await startTenancy(engine);
    [a, b] = env.orgs as [TenantOrg, TenantOrg];
    paths = (await env.call<{ paths: Paths }>('GET', '/openapi.json')).body.paths;
    for (const role of ROLE_KEYS) {
      const me = await env.call<{ permissions: string[]; organization: { id: string } }>(
        'GET',
        '/api/me',
        inOrg(a.members[role], a.id),
      );
      expect(me.body.organization.id).toBe(a.id);
      permissionsOf.set(role, new Set(me.body.permissions));
    }
    const month = new Date();
    const period = `${month.getUTCFullYear() - 1}-${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
    const issued = await env.t.services.statements.run({ period, orgId: b.id });
    statementsOfB = (await env.t.services.statements.list({ orgId: b.id, limit: 10, offset: 0 })).map((s) => s.id);
    expect(statementsOfB).toHaveLength(issued.issued.length);
    const wallet = await env.t.services.billing.service.adjustMember(
      b.id,
      { type: 'team', id: b.team.id },
      1_000,
      'isolation test credit',
      'master',
    );
    memberWalletsOfB = [wallet.walletId];
    before = await snapshotOrg(env.t, b);
  }, 120_000);
  afterAll(async () => env?.close());

  it('covers every built-in role', () => {
    expect([...ROLE_KEYS].sort()).toEqual([...BUILTIN_ROLE_KEYS].sort());
  });

  const mayCall = (role: RoleKey, op: Operation): boolean => {
    const need = declared(op);
    if (need === 'public' || need === 'signed_in') return true;
    const held = permissionsOf.get(role) as Set<string>;
    return need.some((p) => held.has(p));
  };
  const operations = () =>
    Object.entries(paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));

  it.each(ROLE_KEYS)("a member of A as %s sees nothing of B in any list, and A's own totals", async (role) => {
    const me = a.members[role];
    const gets = operations().filter(
      ({ path, method, op }) => method === 'get' && !path.includes('{') && declared(op) !== 'public',
    );
    expect(gets.length).toBeGreaterThan(20);
    const checks = gets.flatMap(({ path, op }) => {
      const queries = [''];
      for (const p of op.parameters ?? []) {
        if (p.in !== 'query') continue;
        for (const id of queryIdsOf(p.name, b)) queries.push(`?${p.name}=${encodeURIComponent(id)}`);
      }
      return queries.map((q) => ({ url: `${path}${q}`, op }));
    });
    await Promise.all(
      checks.map(async ({ url, op }) => {
        const res = await env.call('GET', url, inOrg(me, a.id));
        const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
        if (!mayCall(role, op)) expect(res.status, `${role} GET ${url}`).toBe(403);
        else expect([200, 404], `${role} GET ${url}: ${text}`).toContain(res.status);
        expect(leaks(text, b), `${role} GET ${url}`).toEqual([]);
      }),
    );

    // Totals count A only.
    const held = permissionsOf.get(role) as Set<string>;
    const memberCount = ROLE_KEYS.length + 1; // and the platform admin, who created the organization
    const aKeys = keysOf(a).length;
    if (held.has('members.read')) {
      const users = await env.call<{ total: number }>('GET', '/api/admin/users?limit=100', inOrg(me, a.id));
      expect(users.body.total).toBe(memberCount);
      const members = await env.call<{ total: number }>('GET', '/api/org/members?limit=100', inOrg(me, a.id));
      expect(members.body.total).toBe(memberCount);
    }
    if (held.has('keys.read') || held.has('keys.all')) {
      const keys = await env.call<{ total: number }>('GET', '/api/admin/keys?limit=100', inOrg(me, a.id));
      expect(keys.body.total).toBe(aKeys);
    }
    if (held.has('usage.read')) {
      const overview = await env.call<{
        month: { requests: number };
        users: { total: number };
        keys: { total: number };
      }>('GET', '/api/admin/usage/overview', inOrg(me, a.id));
      expect(overview.body.month.requests).toBe(a.logs.size);
      expect(overview.body.users.total).toBe(memberCount);
      expect(overview.body.keys.total).toBe(aKeys);
      const history = await env.call<{ data: Array<{ requests: number }> }>(
        'GET',
        '/api/admin/usage/history',
        inOrg(me, a.id),
      );
      expect(history.body.data.reduce((n, d) => n + d.requests, 0)).toBe(a.logs.size);
    }
    if (held.has('logs.all')) {
      const logs = await env.call<{ data: Array<{ id: string }> }>('GET', '/api/admin/logs?limit=500', inOrg(me, a.id));
      expect(logs.body.data.map((r) => r.id).sort()).toEqual([...a.logs.values()].sort());
    }
    if (held.has('audit.read')) {
      const audit = await env.call<{ data: Array<{ targetId: string | null }> }>(
        'GET',
        '/api/admin/audit?limit=500',
        inOrg(me, a.id),
      );
      // A's own actions are there (its keys' creation), B's are not (checked by the leak test above).
      expect(audit.body.data.some((r) => r.targetId === a.service.id)).toBe(true);
    }
  });

  it.each(ROLE_KEYS)("a member of A as %s gets 404 (or 403) for every one of B's ids", async (role) => {
    const me = a.members[role];
    const channels = await env.call<{ data: Array<{ id: string }> }>('GET', '/api/admin/channels', {
      token: env.admin.token,
    });
    const channelId = channels.body.data[0]?.id as string;
    const withIds = operations().filter(({ path }) => path.includes('{'));
    expect(withIds.length).toBeGreaterThan(15);
    const calls = withIds.flatMap(({ path, method, op }) =>
      urlsWithIdsOf(path, b, channelId).map((url) => ({ url, path, method, op })),
    );
    await Promise.all(
      calls.map(async ({ url, path, method, op }) => {
        const body = bodyFor(method, path, b);
        const res = await env.call<ErrorBody>(method.toUpperCase(), url, {
          ...inOrg(me, a.id),
          ...(body === undefined ? {} : { body }),
        });
        const expected = mayCall(role, op) ? 404 : 403;
        expect(res.status, `${role} ${method.toUpperCase()} ${url}: ${JSON.stringify(res.body)}`).toBe(expected);
        expect(leaks(JSON.stringify(res.body), b).filter((s) => !url.includes(s))).toEqual([]);
      }),
    );
  });

  it.each(ROLE_KEYS)("a member of A as %s cannot name B's users or teams in a body", async (role) => {
    const me = a.members[role];
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/api/keys', { name: 'for b', userId: b.members.developer.userId }],
      ['POST', '/api/keys', { name: 'in b', teamId: b.team.id }],
      ['POST', '/api/keys', { name: 'b service', teamId: b.team.id, teamOwned: true }],
      ['PATCH', `/api/keys/${a.personal.developer?.id}`, { teamId: b.team.id }],
      ['POST', `/api/org/teams/${a.team.id}/members`, { userId: b.members.developer.userId, role: 'member' }],
    ];
    await Promise.all(
      attempts.map(async ([method, url, body]) => {
        const res = await env.call<ErrorBody>(method, url, { ...inOrg(me, a.id), body });
        expect([400, 403, 404], `${role} ${method} ${url} ${JSON.stringify(body)}: ${res.status}`).toContain(
          res.status,
        );
      }),
    );
  });

  it.each(ROLE_KEYS)('a member of A as %s cannot switch to B by header (id or slug): 404', async (role) => {
    const me = a.members[role];
    for (const hint of [b.id, b.slug]) {
      for (const path of ['/api/me', '/api/org', '/api/keys', '/api/logs']) {
        const res = await env.call<ErrorBody>('GET', path, inOrg(me, hint));
        expect(res.status, `${role} ${path} as ${hint}`).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      }
    }
  });

  it("a team member sees only their team's keys and logs, unless their role reaches further", async () => {
    const list = async (who: TenantMember, path: string) =>
      (await env.call<{ data: Array<{ id: string }> }>('GET', path, inOrg(who, a.id))).body.data.map((r) => r.id);
    const dev = a.members.developer;
    const teamAdmin = a.members.team_admin;
    // The developer (member of the team, keys.own): their own keys, not the team's service key.
    expect((await list(dev, '/api/keys')).sort()).toEqual([a.personal.developer?.id as string, a.devTeamKey.id].sort());
    expect((await env.call('GET', `/api/keys/${a.service.id}`, inOrg(dev, a.id))).status).toBe(404);
    expect((await list(dev, '/api/logs')).sort()).toEqual(
      [a.logs.get(a.personal.developer?.id as string), a.logs.get(a.devTeamKey.id)].sort(),
    );
    // The team admin (keys.team, logs.team): their own, and the team's — never the other team's.
    const teamKeys = [a.personal.team_admin?.id as string, a.devTeamKey.id, a.service.id];
    expect((await list(teamAdmin, '/api/keys')).sort()).toEqual(teamKeys.sort());
    expect((await list(teamAdmin, '/api/keys?scope=own')).sort()).toEqual([a.personal.team_admin?.id]);
    expect((await env.call('GET', `/api/keys/${a.otherService.id}`, inOrg(teamAdmin, a.id))).status).toBe(404);
    expect((await list(teamAdmin, '/api/logs')).sort()).toEqual(teamKeys.map((k) => a.logs.get(k)).sort());
    const otherLog = a.logs.get(a.otherService.id) as string;
    expect((await env.call('GET', `/api/logs/${otherLog}`, inOrg(teamAdmin, a.id))).status).toBe(404);
    // The team admin manages the team's service key, and may create one; not in the other team.
    const renamed = await env.call<{ name: string; teamOwned: boolean }>('PATCH', `/api/keys/${a.service.id}`, {
      ...inOrg(teamAdmin, a.id),
      body: { name: 'renamed service' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.teamOwned).toBe(true);
    const elsewhere = await env.call('POST', '/api/keys', {
      ...inOrg(teamAdmin, a.id),
      body: { name: 'x', teamId: a.otherTeam.id, teamOwned: true },
    });
    expect(elsewhere.status).toBe(403);
    // The viewer reads every key and log of A, but no one else's bodies.
    const viewer = a.members.viewer;
    expect((await list(viewer, '/api/keys?scope=all')).sort()).toEqual(
      keysOf(a)
        .map((k) => k.id)
        .sort(),
    );
    const devLog = a.logs.get(a.personal.developer?.id as string) as string;
    const hidden = await env.call<{ requestBody: string | null }>('GET', `/api/logs/${devLog}`, inOrg(viewer, a.id));
    expect(hidden.status).toBe(200);
    expect(hidden.body.requestBody).toBeNull();
    const own = await env.call<{ requestBody: string | null }>('GET', `/api/logs/${devLog}`, inOrg(dev, a.id));
    expect(own.body.requestBody).toContain(a.tag);
    const owner = await env.call<{ requestBody: string | null }>(
      'GET',
      `/api/logs/${devLog}`,
      inOrg(a.members.owner, a.id),
    );
    expect(owner.body.requestBody).toContain(a.tag);
  });

  it("A's API keys see only themselves on the usage API", async () => {
    for (const key of keysOf(a)) {
      const current = await env.call<{ keys: Array<{ id: string; usage: { requests: number } }> }>(
        'GET',
        '/api/usage/current',
        { token: key.secret },
      );
      expect(current.status).toBe(200);
      expect(current.body.keys.map((k) => k.id)).toEqual([key.id]);
      expect(current.body.keys[0]?.usage.requests).toBe(1);
      expect(leaks(JSON.stringify(current.body), b)).toEqual([]);
      for (const keyId of ['', b.service.id]) {
        const history = await env.call<{ data: Array<{ requests: number }> }>(
          'GET',
          `/api/usage/history${keyId ? `?keyId=${keyId}` : ''}`,
          { token: key.secret },
        );
        expect(history.status).toBe(200);
        expect(history.body.data.reduce((n, d) => n + d.requests, 0)).toBe(1);
      }
    }
  });

  it("changed nothing of B's", async () => {
    expect(await snapshotOrg(env.t, b)).toBe(before);
  });
});
