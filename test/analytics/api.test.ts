/**
 * GET /api/analytics and the saved views as members of two organizations see them (issue #20): each role
 * reads its reach only (the organization, its teams, its own requests), never another organization's;
 * bad input is a clear 400; CSV export; views are per user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../support/accounts.js';
import { ENGINES } from '../support/databases.js';
import { inOrg, keysOf, startTenancy, type Tenancy, type TenantOrg } from '../support/tenancy.js';

interface Answer {
  grain: string;
  totals: { requests: number };
  groups: Array<{ key: string; label: string | null; metrics: { requests: number } }>;
  series: Array<{ at: number; key: string }>;
}

describe.each(ENGINES)('the analytics API (%s)', (engine) => {
  let env: Tenancy;
  let a: TenantOrg;
  let b: TenantOrg;
  beforeAll(async () => {
    env = await startTenancy(engine, 2);
    [a, b] = env.orgs as [TenantOrg, TenantOrg];
  }, 120_000);
  afterAll(async () => env?.close());

  const keyGroups = async (who: { token: string }, org: TenantOrg, extra = '') => {
    const res = await env.call<Answer>('GET', `/api/analytics?groupBy=key&top=100${extra}`, inOrg(who, org.id));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it("shows an organization's admins every key of theirs, and nothing of another organization", async () => {
    const answer = await keyGroups(a.members.owner, a);
    const expected = keysOf(a).filter((k) => a.logs.has(k.id));
    expect(answer.groups.map((g) => g.key).sort()).toEqual(expected.map((k) => k.id).sort());
    expect(answer.totals.requests).toBe(expected.length);
    // Keys are labelled by their names.
    expect(answer.groups.every((g) => typeof g.label === 'string')).toBe(true);
    const text = JSON.stringify(answer);
    for (const secret of b.secrets) expect(text).not.toContain(secret);
  });

  it('shows a developer their own requests and a team admin their teams’', async () => {
    const developer = await keyGroups(a.members.developer, a);
    const own = keysOf(a).filter((k) => k.userId === a.members.developer.userId && a.logs.has(k.id));
    expect(developer.groups.map((g) => g.key).sort()).toEqual(own.map((k) => k.id).sort());
    const teamAdmin = await keyGroups(a.members.team_admin, a);
    const reached = keysOf(a).filter(
      (k) => a.logs.has(k.id) && (k.userId === a.members.team_admin.userId || k.teamId === a.team.id),
    );
    expect(teamAdmin.groups.map((g) => g.key).sort()).toEqual(reached.map((k) => k.id).sort());
    // `scope=own` narrows the team admin to their own requests.
    const narrowed = await keyGroups(a.members.team_admin, a, '&scope=own');
    expect(
      narrowed.groups.every((g) => keysOf(a).find((k) => k.id === g.key)?.userId === a.members.team_admin.userId),
    ).toBe(true);
  });

  it('filters by key: another organization’s key id gives nothing', async () => {
    const bKey = b.service.id;
    const answer = await keyGroups(a.members.owner, a, `&keyId=${bKey}`);
    expect(answer.totals.requests).toBe(0);
    expect(answer.groups).toEqual([]);
  });

  it('refuses callers without a token, and bad input with a clear 400', async () => {
    expect((await env.call('GET', '/api/analytics')).status).toBe(401);
    const as = inOrg(a.members.owner, a.id);
    const now = Date.now();
    for (const [query, says] of [
      [`from=${now - 30 * 86_400_000}&to=${now}&interval=minute`, 'interval=minute'],
      [`from=${now}&to=${now - 1000}`, '`to` must be after `from`'],
      ['metrics=requests,bogus', 'unknown metric bogus'],
      ['groupBy=planet', 'groupBy'],
      ['status=teapot', 'status'],
      ['top=0', 'top'],
    ] as const) {
      const res = await env.call<ErrorBody>('GET', `/api/analytics?${query}`, as);
      expect(res.status, query).toBe(400);
      expect(res.body.error.message, query).toContain(says);
    }
  });

  it('exports the series as CSV', async () => {
    const res = await fetch(`${env.t.url}/api/analytics?groupBy=model&format=csv&metrics=requests,cost,latency_p95`, {
      headers: { authorization: `Bearer ${a.members.owner.token}`, 'x-aihub-organization': a.id },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).toBe('bucket,group,label,requests,cost_micros,latency_p95');
    const total = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[3]), 0);
    expect(total).toBe(keysOf(a).filter((k) => a.logs.has(k.id)).length);
  });

  it('keeps saved views per user and organization', async () => {
    const owner = inOrg(a.members.owner, a.id);
    const created = await env.call<{ id: string; name: string; query: Record<string, string> }>(
      'POST',
      '/api/analytics/views',
      { ...owner, body: { name: 'Cost by model', query: { groupBy: 'model', metrics: 'cost' } } },
    );
    expect(created.status).toBe(201);
    const list = await env.call<{ data: Array<{ id: string; name: string }> }>('GET', '/api/analytics/views', owner);
    expect(list.body.data.map((v) => v.name)).toContain('Cost by model');
    // Another member sees none of them and cannot delete them; nor can another organization's owner.
    const developer = inOrg(a.members.developer, a.id);
    const theirs = await env.call<{ data: unknown[] }>('GET', '/api/analytics/views', developer);
    expect(theirs.body.data).toEqual([]);
    expect((await env.call('DELETE', `/api/analytics/views/${created.body.id}`, developer)).status).toBe(404);
    expect(
      (await env.call('DELETE', `/api/analytics/views/${created.body.id}`, inOrg(b.members.owner, b.id))).status,
    ).toBe(404);
    const bad = await env.call<ErrorBody>('POST', '/api/analytics/views', { ...owner, body: { name: '', query: {} } });
    expect(bad.status).toBe(400);
    expect((await env.call('DELETE', `/api/analytics/views/${created.body.id}`, owner)).status).toBe(204);
    expect((await env.call('DELETE', `/api/analytics/views/${created.body.id}`, owner)).status).toBe(404);
  });
});
