import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { type Call, client, register, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

interface Rule {
  id: string;
  cidr: string;
  blocked: number;
}

describe.each(ENGINES)('global IP rules (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  let admin: string;
  let user: string;
  let key: string;
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const chat = (ip: string) =>
    call<{ error?: { code: string; type: string } }>('POST', '/v1/chat/completions', {
      token: key,
      headers: from(ip),
      body: { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] },
    });
  const addRule = (body: Record<string, unknown>, ip = '127.0.0.1', query = '') =>
    call<Rule & { error?: { code: string; message: string } }>('POST', `/api/admin/ip-rules${query}`, {
      token: admin,
      headers: from(ip),
      body,
    });

  beforeAll(async () => {
    t = await startTestApp({ engine, env: { AIHUB_TRUST_PROXY: 'true' } });
    call = client(t.url);
    admin = (await register(call, 'ip-admin@example.com')).token;
    user = (await register(call, 'ip-user@example.com')).token;
    await seedDemo(t.services);
    key = (await call<{ secret: string }>('POST', '/api/keys', { token: admin, body: { name: 'k' } })).body.secret;
  });
  afterAll(async () => t?.close());

  it('is admin-only', async () => {
    expect((await call('GET', '/api/admin/ip-rules')).status).toBe(401);
    expect((await call('GET', '/api/admin/ip-rules', { token: user })).status).toBe(403);
    expect(
      (
        await call('POST', '/api/admin/ip-rules', {
          token: user,
          body: { scope: 'v1', action: 'deny', cidr: '10.0.0.0/8' },
        })
      ).status,
    ).toBe(403);
  });

  it('validates rules: bad CIDR names the field, duplicates conflict, ranges are normalised', async () => {
    const bad = await addRule({ scope: 'v1', action: 'deny', cidr: '10.0.0.0/33' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain('cidr');
    const created = await addRule({ scope: 'v1', action: 'deny', cidr: '192.0.2.77/24', note: 'test net' });
    expect(created.status).toBe(201);
    expect(created.body.cidr).toBe('192.0.2.0/24');
    expect((await addRule({ scope: 'v1', action: 'deny', cidr: '192.0.2.0/24' })).status).toBe(409);
    expect((await call('DELETE', `/api/admin/ip-rules/${created.body.id}`, { token: admin })).status).toBe(204);
    expect((await call('DELETE', `/api/admin/ip-rules/${created.body.id}`, { token: admin })).status).toBe(404);
  });

  it('denies /v1 from a denied range (v4, v6, IPv4-mapped), counts it, and lets it through once deleted', async () => {
    const v4 = (await addRule({ scope: 'v1', action: 'deny', cidr: '198.51.100.0/24' })).body;
    const v6 = (await addRule({ scope: 'v1', action: 'deny', cidr: '2001:db8::/32' })).body;
    const refused = await chat('198.51.100.7');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'ip_not_allowed', type: 'permission_error' });
    expect((await chat('::ffff:198.51.100.8')).status).toBe(403);
    expect((await chat('2001:db8:5::1')).status).toBe(403);
    expect((await chat('203.0.113.1')).status).toBe(200);
    const list = await call<{ data: Rule[]; blocked: { v1: number } }>('GET', '/api/admin/ip-rules', { token: admin });
    expect(list.body.data.find((r) => r.id === v4.id)?.blocked).toBe(2);
    expect(list.body.data.find((r) => r.id === v6.id)?.blocked).toBe(1);
    expect(list.body.blocked.v1).toBeGreaterThanOrEqual(3);
    await call('DELETE', `/api/admin/ip-rules/${v4.id}`, { token: admin });
    await call('DELETE', `/api/admin/ip-rules/${v6.id}`, { token: admin });
    expect((await chat('198.51.100.7')).status).toBe(200);
  });

  it('with an allow list, only listed addresses reach /v1', async () => {
    const allow = (await addRule({ scope: 'v1', action: 'allow', cidr: '10.0.0.0/8' })).body;
    expect((await chat('10.1.2.3')).status).toBe(200);
    expect((await chat('11.0.0.1')).status).toBe(403);
    await call('DELETE', `/api/admin/ip-rules/${allow.id}`, { token: admin });
    expect((await chat('11.0.0.1')).status).toBe(200);
  });

  it('applies api rules to /api and the docs, refuses rules that would lock the admin out unless forced', async () => {
    const lockout = await addRule({ scope: 'api', action: 'allow', cidr: '10.0.0.0/8' }, '127.0.0.1');
    expect(lockout.status).toBe(409);
    expect((lockout.body as { error: { code: string } }).error.code).toBe('ip_rule_lockout');
    expect((await addRule({ scope: 'api', action: 'deny', cidr: '127.0.0.0/8' }, '127.0.0.1')).status).toBe(409);
    const deny = await addRule({ scope: 'api', action: 'deny', cidr: '203.0.113.0/24' }, '127.0.0.1');
    expect(deny.status).toBe(201);
    const blocked = await call<{ error: { code: string } }>('GET', '/api/me', {
      token: user,
      headers: from('203.0.113.5'),
    });
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('ip_not_allowed');
    expect((await fetch(`${t.url}/docs/`, { headers: from('203.0.113.5') })).status).toBe(403);
    expect((await call('GET', '/api/me', { token: user, headers: from('198.18.0.1') })).status).toBe(200);
    // /v1 is a separate scope.
    expect((await chat('203.0.113.5')).status).toBe(200);
    expect((await fetch(`${t.url}/health`, { headers: from('203.0.113.5') })).status).toBe(200);
    await call('DELETE', `/api/admin/ip-rules/${deny.body.id}`, { token: admin });
    const forced = await addRule({ scope: 'api', action: 'allow', cidr: '127.0.0.0/8' }, '127.0.0.1', '?force=true');
    expect(forced.status).toBe(201);
    await call('DELETE', `/api/admin/ip-rules/${forced.body.id}`, { token: admin });
  });
});
