/**
 * Global IP rules, end to end. global-ip-rules.test.ts covers the basics behind a trusted proxy; this file
 * covers the direct-connection case (request.ip is the socket address), IPv6 loopback, rule edits, the
 * audit trail and the lock-out guard on /api.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { type Call, client, register, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

interface Rule {
  id: string;
  scope: 'v1' | 'api';
  action: 'allow' | 'deny';
  cidr: string;
  note: string | null;
  blocked: number;
}
interface RuleList {
  data: Rule[];
  blocked: { v1: number; api: number };
  refusedByAllowList: { v1: number; api: number };
}
interface ApiErrorBody {
  error: { code: string; message: string; requestId: string };
}
interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

const CHAT = { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] };

describe.each(ENGINES)('IP rules (%s)', (engine) => {
  /** A direct connection: request.ip is 127.0.0.1, X-Forwarded-For is ignored. */
  let direct: TestApp;
  /** Behind a trusted proxy: request.ip comes from X-Forwarded-For. */
  let proxied: TestApp;
  let call: Call;
  let viaProxy: Call;
  let admin: string;
  let user: string;
  let proxyAdmin: string;
  let key: string;
  let proxyKey: string;

  const rules = async (c: Call, token: string, from?: string) =>
    (await c<RuleList>('GET', '/api/admin/ip-rules', { token, headers: from ? { 'x-forwarded-for': from } : {} })).body;
  const addRule = (
    c: Call,
    token: string,
    body: Record<string, unknown>,
    options: { from?: string; query?: string } = {},
  ) =>
    c<Rule & ApiErrorBody>('POST', `/api/admin/ip-rules${options.query ?? ''}`, {
      token,
      body,
      headers: options.from ? { 'x-forwarded-for': options.from } : {},
    });
  const chat = (c: Call, secret: string, from?: string) =>
    c<OpenAiErrorBody>('POST', '/v1/chat/completions', {
      token: secret,
      body: CHAT,
      headers: from ? { 'x-forwarded-for': from } : {},
    });

  beforeAll(async () => {
    direct = await startTestApp({ engine });
    call = client(direct.url);
    admin = (await register(call, 'ipr-admin@example.com')).token;
    user = (await register(call, 'ipr-user@example.com')).token;
    await seedDemo(direct.services);
    key = (await call<{ secret: string }>('POST', '/api/keys', { token: admin, body: { name: 'k' } })).body.secret;

    proxied = await startTestApp({ engine, env: { AIHUB_TRUST_PROXY: 'true' } });
    viaProxy = client(proxied.url);
    proxyAdmin = (await register(viaProxy, 'ipr-proxy-admin@example.com')).token;
    await seedDemo(proxied.services);
    proxyKey = (await viaProxy<{ secret: string }>('POST', '/api/keys', { token: proxyAdmin, body: { name: 'k' } }))
      .body.secret;
  });
  afterAll(async () => {
    await direct?.close();
    await proxied?.close();
  });

  describe('admin API', () => {
    it('needs a token (401) and the admin role (403) for every route', async () => {
      const body = { scope: 'v1', action: 'deny', cidr: '192.0.2.0/24' };
      for (const [method, path] of [
        ['GET', '/api/admin/ip-rules'],
        ['POST', '/api/admin/ip-rules'],
        ['PATCH', '/api/admin/ip-rules/ipr_x'],
        ['DELETE', '/api/admin/ip-rules/ipr_x'],
      ] as const) {
        const payload = method === 'POST' ? body : method === 'PATCH' ? { note: 'x' } : undefined;
        const anonymous = await call<ApiErrorBody>(method, path, { body: payload });
        expect(anonymous.status, `${method} ${path}`).toBe(401);
        const notAdmin = await call<ApiErrorBody>(method, path, { token: user, body: payload });
        expect(notAdmin.status, `${method} ${path}`).toBe(403);
        expect(notAdmin.body.error.code).toBe('forbidden');
      }
      expect((await rules(call, admin)).data).toEqual([]);
    });

    it('validates input: bad CIDR names the field, unknown scope or action is refused, a bare IP is a /32 or /128', async () => {
      // Legacy IPv4 forms are refused: "10/8" would otherwise become 0.0.0.0/8.
      for (const cidr of [
        '10.0.0.0/33',
        'not-an-ip',
        '2001:db8::/129',
        '300.1.1.1',
        '10/8',
        '127.1',
        '0x7f.0.0.1',
        '::ffff:0:0/90',
      ]) {
        const bad = await addRule(call, admin, { scope: 'v1', action: 'deny', cidr });
        expect(bad.status, cidr).toBe(400);
        expect(bad.body.error.code).toBe('validation_failed');
        expect(bad.body.error.message).toContain('cidr');
      }
      expect(
        (await addRule(call, admin, { scope: 'v2', action: 'deny', cidr: '192.0.2.1' })).body.error.message,
      ).toContain('scope');
      expect(
        (await addRule(call, admin, { scope: 'v1', action: 'block', cidr: '192.0.2.1' })).body.error.message,
      ).toContain('action');
      const v4 = await addRule(call, admin, { scope: 'v1', action: 'deny', cidr: ' 192.0.2.9 ' });
      const v6 = await addRule(call, admin, { scope: 'v1', action: 'deny', cidr: '2001:DB8:0:0::1' });
      expect([v4.status, v6.status]).toEqual([201, 201]);
      expect(v4.body).toMatchObject({ scope: 'v1', action: 'deny', cidr: '192.0.2.9/32', note: null, blocked: 0 });
      expect(v4.body.id).toMatch(/^ipr_/);
      expect(v6.body.cidr).toBe('2001:db8::1/128');
      // The same rule written differently is still a duplicate; the same range with the other action is not.
      const dup = await addRule(call, admin, { scope: 'v1', action: 'deny', cidr: '192.0.2.9/32' });
      expect(dup.status).toBe(409);
      expect(dup.body.error.code).toBe('conflict');
      const otherAction = await addRule(call, admin, { scope: 'v1', action: 'allow', cidr: '192.0.2.9' });
      expect(otherAction.status).toBe(201);
      for (const rule of [v4.body, v6.body, otherAction.body]) {
        expect((await call('DELETE', `/api/admin/ip-rules/${rule.id}`, { token: admin })).status).toBe(204);
      }
    });

    it('edits a rule (note, action, range), refuses a bad range or an unknown id, and audits every change', async () => {
      const created = (
        await addRule(call, admin, { scope: 'v1', action: 'deny', cidr: '198.51.100.0/24', note: 'abuse' })
      ).body;
      const noted = await call<Rule>('PATCH', `/api/admin/ip-rules/${created.id}`, {
        token: admin,
        body: { note: 'abuse, ticket 42' },
      });
      expect(noted.status).toBe(200);
      expect(noted.body).toMatchObject({ id: created.id, cidr: '198.51.100.0/24', note: 'abuse, ticket 42' });
      const moved = await call<Rule>('PATCH', `/api/admin/ip-rules/${created.id}`, {
        token: admin,
        body: { action: 'allow', cidr: '198.51.100.200/25', note: null },
      });
      expect(moved.body).toMatchObject({ action: 'allow', cidr: '198.51.100.128/25', note: null });
      expect((await rules(call, admin)).data).toEqual([
        expect.objectContaining({ id: created.id, action: 'allow', cidr: '198.51.100.128/25' }),
      ]);

      const bad = await call<ApiErrorBody>('PATCH', `/api/admin/ip-rules/${created.id}`, {
        token: admin,
        body: { cidr: '198.51.100.0/99' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toContain('cidr');
      expect(
        (await call('PATCH', `/api/admin/ip-rules/${created.id}`, { token: admin, body: { scope: 'api' } })).status,
      ).toBe(400);
      expect(
        (await call('PATCH', '/api/admin/ip-rules/ipr_missing', { token: admin, body: { note: 'x' } })).status,
      ).toBe(404);
      // Editing a rule into a copy of another one is a conflict, not a failed insert.
      const other = (await addRule(call, admin, { scope: 'v1', action: 'allow', cidr: '198.51.100.0/24' })).body;
      const copy = await call<ApiErrorBody>('PATCH', `/api/admin/ip-rules/${other.id}`, {
        token: admin,
        body: { cidr: '198.51.100.130/25' },
      });
      expect(copy.status).toBe(409);
      expect(copy.body.error.code).toBe('conflict');
      expect((await call('DELETE', `/api/admin/ip-rules/${other.id}`, { token: admin })).status).toBe(204);
      expect((await call('DELETE', `/api/admin/ip-rules/${created.id}`, { token: admin })).status).toBe(204);
      expect((await call('DELETE', `/api/admin/ip-rules/${created.id}`, { token: admin })).status).toBe(404);

      const trail = await direct.services.audit.list({ scope: null, targetId: created.id, limit: 10 });
      expect(trail.map((r) => r.action).sort()).toEqual([
        'ip_rule.create',
        'ip_rule.delete',
        'ip_rule.update',
        'ip_rule.update',
      ]);
      expect(trail.every((r) => r.targetType === 'ip_rule' && r.actorId !== null && r.ip === '127.0.0.1')).toBe(true);
      expect(trail.find((r) => r.action === 'ip_rule.create')?.detail).toMatchObject({
        scope: 'v1',
        action: 'deny',
        cidr: '198.51.100.0/24',
      });
    });
  });

  describe('/v1 enforcement on a direct connection (request.ip = 127.0.0.1)', () => {
    it('a deny rule for 127.0.0.1/32 answers 403 ip_not_allowed in the OpenAI shape and counts it; deleting it restores access', async () => {
      expect((await chat(call, key)).status).toBe(200);
      const deny = (await addRule(call, admin, { scope: 'v1', action: 'deny', cidr: '127.0.0.1/32' })).body;
      const before = (await rules(call, admin)).blocked.v1;

      const refused = await chat(call, key);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('x-request-id')).toMatch(/^req_/);
      expect(refused.body.error).toEqual({
        message: expect.stringContaining('127.0.0.1'),
        type: 'permission_error',
        param: null,
        code: 'ip_not_allowed',
      });
      // The check runs before the key: a denied address learns nothing about keys.
      expect((await chat(call, 'sk-wrong')).status).toBe(403);
      const anthropic = await call<{ type: string; error: { type: string } }>('POST', '/v1/messages', {
        headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
        body: { model: 'mock-gpt', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(anthropic.status).toBe(403);
      expect(anthropic.body).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
      expect((await call('GET', '/v1/models', { token: key })).status).toBe(403);

      const after = await rules(call, admin);
      expect(after.data.find((r) => r.id === deny.id)?.blocked).toBe(4);
      expect(after.blocked.v1).toBe(before + 4);
      expect(after.blocked.api).toBe(0);
      // v1 rules leave the control plane and the probes alone.
      expect((await call('GET', '/api/me', { token: user })).status).toBe(200);
      expect((await call('GET', '/health')).status).toBe(200);

      expect((await call('DELETE', `/api/admin/ip-rules/${deny.id}`, { token: admin })).status).toBe(204);
      expect((await chat(call, key)).status).toBe(200);
    });

    it('an allow list of 10.0.0.0/8 refuses 127.0.0.1, counted as refused by the allow list', async () => {
      const allow = (await addRule(call, admin, { scope: 'v1', action: 'allow', cidr: '10.0.0.0/8' })).body;
      const before = (await rules(call, admin)).refusedByAllowList.v1;
      const refused = await chat(call, key);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('ip_not_allowed');
      const after = await rules(call, admin);
      expect(after.refusedByAllowList.v1).toBe(before + 1);
      // Not a match of the allow rule itself.
      expect(after.data.find((r) => r.id === allow.id)?.blocked).toBe(0);

      // Adding the caller's range to the allow list lets it in; a deny inside an allowed range still wins.
      const loopback = (await addRule(call, admin, { scope: 'v1', action: 'allow', cidr: '127.0.0.0/8' })).body;
      expect((await chat(call, key)).status).toBe(200);
      const deny = (await addRule(call, admin, { scope: 'v1', action: 'deny', cidr: '127.0.0.1' })).body;
      expect((await chat(call, key)).status).toBe(403);
      for (const rule of [allow, loopback, deny])
        await call('DELETE', `/api/admin/ip-rules/${rule.id}`, { token: admin });
      expect((await chat(call, key)).status).toBe(200);
    });
  });

  describe('/v1 enforcement behind a proxy (X-Forwarded-For)', () => {
    it('::1 matches only IPv6 rules that contain it; IPv4-mapped addresses match IPv4 rules', async () => {
      const loop6 = (await addRule(viaProxy, proxyAdmin, { scope: 'v1', action: 'deny', cidr: '::1' })).body;
      expect(loop6.cidr).toBe('::1/128');
      expect((await chat(viaProxy, proxyKey, '::1')).status).toBe(403);
      expect((await chat(viaProxy, proxyKey, '127.0.0.1')).status).toBe(200);
      expect((await chat(viaProxy, proxyKey, '2001:db8::1')).status).toBe(200);
      await viaProxy('DELETE', `/api/admin/ip-rules/${loop6.id}`, { token: proxyAdmin });

      const doc6 = (await addRule(viaProxy, proxyAdmin, { scope: 'v1', action: 'deny', cidr: '2001:db8::/32' })).body;
      expect((await chat(viaProxy, proxyKey, '::1')).status).toBe(200);
      expect((await chat(viaProxy, proxyKey, '2001:db8:ffff::9')).status).toBe(403);
      await viaProxy('DELETE', `/api/admin/ip-rules/${doc6.id}`, { token: proxyAdmin });

      // An IPv6-only allow list shuts out IPv4 and the IPv6 loopback alike.
      const only6 = (await addRule(viaProxy, proxyAdmin, { scope: 'v1', action: 'allow', cidr: '2001:db8::/32' })).body;
      expect((await chat(viaProxy, proxyKey, '2001:db8::5')).status).toBe(200);
      expect((await chat(viaProxy, proxyKey, '::1')).status).toBe(403);
      expect((await chat(viaProxy, proxyKey, '127.0.0.1')).status).toBe(403);
      await viaProxy('DELETE', `/api/admin/ip-rules/${only6.id}`, { token: proxyAdmin });

      const mapped = (await addRule(viaProxy, proxyAdmin, { scope: 'v1', action: 'allow', cidr: '::ffff:1.2.3.0/120' }))
        .body;
      expect(mapped.cidr).toBe('1.2.3.0/24');
      expect((await chat(viaProxy, proxyKey, '::ffff:1.2.3.4')).status).toBe(200);
      expect((await chat(viaProxy, proxyKey, '1.2.3.5')).status).toBe(200);
      expect((await chat(viaProxy, proxyKey, '1.2.4.1')).status).toBe(403);
      await viaProxy('DELETE', `/api/admin/ip-rules/${mapped.id}`, { token: proxyAdmin });
      expect((await chat(viaProxy, proxyKey, '1.2.4.1')).status).toBe(200);
    });

    it('an address that cannot be parsed matches no allow rule, so an allow list refuses it', async () => {
      const { accessRules } = proxied.services;
      expect(accessRules.check('v1', 'not-an-ip')).toBe(true);
      const allow = (await addRule(viaProxy, proxyAdmin, { scope: 'v1', action: 'allow', cidr: '0.0.0.0/0' })).body;
      expect(accessRules.check('v1', 'not-an-ip')).toBe(false);
      expect(accessRules.check('v1', '203.0.113.1')).toBe(true);
      expect(accessRules.check('v1', 'fe80::1%eth0')).toBe(false);
      await viaProxy('DELETE', `/api/admin/ip-rules/${allow.id}`, { token: proxyAdmin });
    });
  });

  describe('/api and console enforcement', () => {
    it('refuses api rules that would lock the caller out, on create and on edit, unless forced', async () => {
      const office = '203.0.113.10';
      const outside = await addRule(
        viaProxy,
        proxyAdmin,
        { scope: 'api', action: 'allow', cidr: '10.0.0.0/8' },
        { from: office },
      );
      expect(outside.status).toBe(409);
      expect(outside.body.error.code).toBe('ip_rule_lockout');
      expect(outside.body.error.message).toMatch(/lock you .*force=true/);
      expect(
        (
          await addRule(
            viaProxy,
            proxyAdmin,
            { scope: 'api', action: 'deny', cidr: '203.0.113.0/24' },
            { from: office },
          )
        ).status,
      ).toBe(409);
      expect((await rules(viaProxy, proxyAdmin)).data.filter((r) => r.scope === 'api')).toEqual([]);

      // A rule that keeps the caller in is fine; editing it so it no longer does is refused the same way.
      const allow = await addRule(
        viaProxy,
        proxyAdmin,
        { scope: 'api', action: 'allow', cidr: '203.0.113.0/24' },
        { from: office },
      );
      expect(allow.status).toBe(201);
      const narrowed = await viaProxy<ApiErrorBody>('PATCH', `/api/admin/ip-rules/${allow.body.id}`, {
        token: proxyAdmin,
        body: { cidr: '203.0.113.128/25' },
        headers: { 'x-forwarded-for': office },
      });
      expect(narrowed.status).toBe(409);
      expect((await rules(viaProxy, proxyAdmin, office)).data.find((r) => r.id === allow.body.id)?.cidr).toBe(
        '203.0.113.0/24',
      );
      // The same edit from an address the new range keeps is accepted.
      const fromInside = await viaProxy<Rule>('PATCH', `/api/admin/ip-rules/${allow.body.id}`, {
        token: proxyAdmin,
        body: { cidr: '203.0.113.128/25' },
        headers: { 'x-forwarded-for': '203.0.113.200' },
      });
      expect(fromInside.status).toBe(200);
      await viaProxy('DELETE', `/api/admin/ip-rules/${allow.body.id}`, {
        token: proxyAdmin,
        headers: { 'x-forwarded-for': '203.0.113.200' },
      });
      expect((await rules(viaProxy, proxyAdmin)).data).toEqual([]);
    });

    it('a forced api allow list blocks /api/me, the admin API and /docs from elsewhere with 403 ip_not_allowed; deleting it restores access', async () => {
      const office = '203.0.113.10';
      const elsewhere = { 'x-forwarded-for': '198.18.0.1' };
      const forced = await addRule(
        viaProxy,
        proxyAdmin,
        { scope: 'api', action: 'allow', cidr: '203.0.113.0/24' },
        { from: '198.18.0.1', query: '?force=true' },
      );
      expect(forced.status).toBe(201);

      const me = await viaProxy<ApiErrorBody>('GET', '/api/me', { token: proxyAdmin, headers: elsewhere });
      expect(me.status).toBe(403);
      expect(me.body.error).toMatchObject({ code: 'ip_not_allowed', requestId: expect.stringMatching(/^req_/) });
      // Refused before authentication: no token needed to be refused, and an admin token does not help.
      expect((await viaProxy<ApiErrorBody>('GET', '/api/me', { headers: elsewhere })).body.error.code).toBe(
        'ip_not_allowed',
      );
      expect((await viaProxy('GET', '/api/admin/ip-rules', { token: proxyAdmin, headers: elsewhere })).status).toBe(
        403,
      );
      expect((await fetch(`${proxied.url}/docs/`, { headers: elsewhere })).status).toBe(403);
      // The data plane and the probes are other scopes.
      expect((await chat(viaProxy, proxyKey, '198.18.0.1')).status).toBe(200);
      expect((await fetch(`${proxied.url}/ready`, { headers: elsewhere })).status).toBe(200);

      const fromOffice = { 'x-forwarded-for': office };
      expect((await viaProxy('GET', '/api/me', { token: proxyAdmin, headers: fromOffice })).status).toBe(200);
      const list = (await viaProxy<RuleList>('GET', '/api/admin/ip-rules', { token: proxyAdmin, headers: fromOffice }))
        .body;
      expect(list.refusedByAllowList.api).toBe(4);
      expect(list.blocked.api).toBe(4);

      expect(
        (await viaProxy('DELETE', `/api/admin/ip-rules/${forced.body.id}`, { token: proxyAdmin, headers: fromOffice }))
          .status,
      ).toBe(204);
      expect((await viaProxy('GET', '/api/me', { token: proxyAdmin, headers: elsewhere })).status).toBe(200);
    });

    it('an api deny rule blocks only its range, and the blocked count is kept per rule', async () => {
      const deny = (
        await addRule(
          viaProxy,
          proxyAdmin,
          { scope: 'api', action: 'deny', cidr: '2001:db8:bad::/48' },
          { from: '127.0.0.1' },
        )
      ).body;
      const bad = { 'x-forwarded-for': '2001:db8:bad::7' };
      expect((await viaProxy('GET', '/api/me', { token: proxyAdmin, headers: bad })).status).toBe(403);
      expect(
        (
          await viaProxy('POST', '/api/auth/login', {
            body: { email: 'x@example.com', password: 'whatever1' },
            headers: bad,
          })
        ).status,
      ).toBe(403);
      expect(
        (await viaProxy('GET', '/api/me', { token: proxyAdmin, headers: { 'x-forwarded-for': '2001:db8:900d::7' } }))
          .status,
      ).toBe(200);
      expect((await rules(viaProxy, proxyAdmin)).data.find((r) => r.id === deny.id)?.blocked).toBe(2);
      await viaProxy('DELETE', `/api/admin/ip-rules/${deny.id}`, { token: proxyAdmin });
      expect((await viaProxy('GET', '/api/me', { token: proxyAdmin, headers: bad })).status).toBe(200);
    });
  });
});
