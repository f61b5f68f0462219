import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, countUsers, type ErrorBody, MASTER_KEY } from '../support/accounts.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { type FakeIdp, startFakeIdp } from '../support/fakes/oidc.js';
import { CookieBrowser, finishCallback, loginAtIdp, ssoSignIn } from '../support/sso.js';

interface Connection {
  id: string;
  orgId: string | null;
  name: string;
  clientSecretSet: boolean;
  redirectUri: string;
  mappings: unknown[];
  ssoOnly: boolean;
}
interface Me {
  id: string;
  email: string;
  organization: { id: string; role: string };
  teams: Array<{ id: string; role: string }>;
}

describe.each(ENGINES)('single sign-on with OpenID Connect (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  let idp: FakeIdp;
  let admin: SignedIn;
  let orgA: { id: string; slug: string };
  let orgB: { id: string; slug: string };
  let teamEng: { id: string };
  let connA: Connection;
  let callbackUrl: string;
  const inOrg = (who: SignedIn | string, orgId: string) => ({
    token: typeof who === 'string' ? who : who.token,
    headers: { 'x-aihub-organization': orgId },
  });
  const connectionBody = (extra: Record<string, unknown> = {}) => ({
    name: 'Acme Login',
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    scopes: 'openid email profile groups',
    ...extra,
  });

  beforeAll(async () => {
    t = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    call = client(t.url);
    callbackUrl = `${t.url}/api/auth/sso/callback`;
    idp = await startFakeIdp({ redirectUris: [callbackUrl] });
    idp.setAccount({ sub: 'alice', email: 'alice@acme.test', email_verified: true, name: 'Alice', groups: ['eng'] });
    idp.setAccount({ sub: 'dave', email: 'dave@acme.test', email_verified: true, groups: [] });
    admin = await register(call, 'root@hub.test');
    orgA = (
      await call<{ id: string; slug: string }>('POST', '/api/organizations', {
        token: admin.token,
        body: { name: 'Acme', slug: 'acme' },
      })
    ).body;
    orgB = (
      await call<{ id: string; slug: string }>('POST', '/api/organizations', {
        token: admin.token,
        body: { name: 'Beta', slug: 'beta' },
      })
    ).body;
    const team = await call<{ id: string }>('POST', '/api/org/teams', {
      ...inOrg(admin, orgA.id),
      body: { name: 'Engineering' },
    });
    expect(team.status).toBe(201);
    teamEng = team.body;
    const created = await call<Connection>('POST', '/api/org/sso', {
      ...inOrg(admin, orgA.id),
      body: connectionBody({
        emailDomains: ['acme.test'],
        mappings: [{ claim: 'groups', value: 'eng', team: teamEng.id, teamRole: 'admin', role: 'admin' }],
        defaultRole: 'viewer',
      }),
    });
    expect(created.status).toBe(201);
    connA = created.body;
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('stores the client secret sealed and never answers it; shows the redirect URI to register', async () => {
    expect(connA.clientSecretSet).toBe(true);
    expect(connA.orgId).toBe(orgA.id);
    expect(connA.redirectUri).toBe(callbackUrl);
    const list = await call<{ data: Connection[]; redirectUri: string }>('GET', '/api/org/sso', inOrg(admin, orgA.id));
    expect(list.body.redirectUri).toBe(callbackUrl);
    expect(list.body.data.map((c) => c.id)).toEqual([connA.id]);
    expect(JSON.stringify(list.body)).not.toContain(idp.clientSecret);
    const row = await t.database.handle.db
      .selectFrom('sso_connections')
      .select('client_secret')
      .where('id', '=', connA.id)
      .executeTakeFirstOrThrow();
    expect(row.client_secret).toMatch(/^v1:/);
    expect(row.client_secret).not.toContain(idp.clientSecret);
    const audit = await auditRows(t, { action: 'sso.create' });
    expect(audit[0]).toMatchObject({ targetId: connA.id });
  });

  it('refuses bad connections: an http issuer elsewhere than localhost, scopes without openid', async () => {
    const http = await call<ErrorBody>('POST', '/api/org/sso', {
      ...inOrg(admin, orgA.id),
      body: connectionBody({ issuer: 'http://idp.example.com' }),
    });
    expect(http.status).toBe(400);
    expect(http.body.error.message).toMatch(/https/);
    const scopes = await call<ErrorBody>('POST', '/api/org/sso', {
      ...inOrg(admin, orgA.id),
      body: connectionBody({ scopes: 'email profile' }),
    });
    expect(scopes.status).toBe(400);
    const foreignTeam = await call<ErrorBody>('POST', '/api/org/sso', {
      ...inOrg(admin, orgB.id),
      body: connectionBody({ mappings: [{ claim: 'groups', value: 'eng', team: teamEng.id }] }),
    });
    expect(foreignTeam.status).toBe(400);
    expect(foreignTeam.body.error.message).toMatch(/team/);
  });

  it('lists login buttons by email domain and organization; instance-wide ones always', async () => {
    const byDomain = await call<{ data: Array<{ id: string; name: string }> }>(
      'GET',
      '/api/auth/sso/providers?email=x@ACME.test',
    );
    expect(byDomain.body.data).toEqual([{ id: connA.id, name: 'Acme Login' }]);
    const byOrg = await call<{ data: unknown[] }>('GET', '/api/auth/sso/providers?org=acme');
    expect(byOrg.body.data).toHaveLength(1);
    const other = await call<{ data: unknown[] }>('GET', '/api/auth/sso/providers?email=x@other.test&org=beta');
    expect(other.body.data).toEqual([]);
  });

  it('signs a new person in just in time: account in the organization, role and team by the claim mapping', async () => {
    const before = await countUsers(t);
    const browser = new CookieBrowser();
    const landing = await ssoSignIn(browser, t.url, connA.id, 'alice', { returnTo: '/keys?x=1' });
    expect(landing.location).toBe(`/login?${new URLSearchParams({ sso: 'done', next: '/keys?x=1' })}`);
    expect(landing.accessToken).toBeTruthy();
    expect(await countUsers(t)).toBe(before + 1);
    const me = await call<Me>('GET', '/api/me', { token: landing.accessToken as string });
    expect(me.body.email).toBe('alice@acme.test');
    expect(me.body.organization).toMatchObject({ id: orgA.id, role: 'admin' });
    expect(me.body.teams).toEqual([expect.objectContaining({ id: teamEng.id, role: 'admin' })]);
    // Not a member of the Default organization.
    const orgs = await call<{ data: Array<{ id: string }> }>('GET', '/api/organizations', {
      token: landing.accessToken as string,
    });
    expect(orgs.body.data.map((o) => o.id)).toEqual([orgA.id]);
    const user = await t.database.handle.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'alice@acme.test')
      .executeTakeFirstOrThrow();
    expect(user.email_verified_at).not.toBeNull();
    const audit = await auditRows(t, { action: 'auth.sso_login' });
    expect(audit[0]).toMatchObject({
      actorId: user.id,
      detail: expect.objectContaining({ created: true, account: 'new' }),
    });

    // The second time: the same account through its identity link.
    const again = await ssoSignIn(new CookieBrowser(), t.url, connA.id, 'alice');
    expect(again.userId).toBe(user.id);
    expect(again.location).toBe('/login?sso=done&next=%2F');
    expect(await countUsers(t)).toBe(before + 1);
  });

  it('gives the default role to people no rule matches, and a returnTo elsewhere becomes /', async () => {
    const landing = await ssoSignIn(new CookieBrowser(), t.url, connA.id, 'dave', { returnTo: '//evil.test/x' });
    expect(landing.location).toBe('/login?sso=done&next=%2F');
    const me = await call<Me>('GET', '/api/me', { token: landing.accessToken as string });
    expect(me.body.organization).toMatchObject({ id: orgA.id, role: 'viewer' });
    expect(me.body.teams).toEqual([]);
  });

  it('links an existing account by its verified email; refuses one that lives outside the organization', async () => {
    // bob registered with a password (the Default organization); the Default organization's connection links him.
    const bob = await register(call, 'bob@default.test');
    idp.setAccount({ sub: 'bob-at-idp', email: 'bob@default.test', email_verified: true });
    const conn = await call<Connection>('POST', '/api/org/sso', {
      ...inOrg(admin, 'org_default'),
      body: connectionBody({ name: 'Default IdP', emailDomains: ['default.test'] }),
    });
    expect(conn.status).toBe(201);
    const landing = await ssoSignIn(new CookieBrowser(), t.url, conn.body.id, 'bob-at-idp');
    expect(landing.userId).toBe(bob.userId);
    const link = await t.database.handle.db
      .selectFrom('user_identities')
      .selectAll()
      .where('user_id', '=', bob.userId)
      .executeTakeFirstOrThrow();
    expect(link).toMatchObject({ connection_id: conn.body.id, subject: 'bob-at-idp' });

    // Acme's admin cannot take over a Default-organization account by asserting its email from Acme's IdP.
    idp.setAccount({ sub: 'fake-bob', email: 'bob@default.test', email_verified: true });
    await call('PATCH', `/api/org/sso/${connA.id}`, { ...inOrg(admin, orgA.id), body: { emailDomains: [] } });
    const takeover = await ssoSignIn(new CookieBrowser(), t.url, connA.id, 'fake-bob');
    expect(takeover.location).toBe('/login?sso_error=account_conflict');
    expect(takeover.accessToken).toBeNull();
    const failed = await auditRows(t, { action: 'auth.sso_failed' });
    expect(failed[0]).toMatchObject({
      targetId: connA.id,
      detail: expect.objectContaining({ code: 'account_conflict' }),
    });
    // Nor the platform admin's.
    idp.setAccount({ sub: 'fake-root', email: 'root@hub.test', email_verified: true });
    expect((await ssoSignIn(new CookieBrowser(), t.url, connA.id, 'fake-root')).location).toBe(
      '/login?sso_error=account_conflict',
    );
    // Email domains restrict who a connection serves.
    await call('PATCH', `/api/org/sso/${connA.id}`, {
      ...inOrg(admin, orgA.id),
      body: { emailDomains: ['acme.test'] },
    });
    expect((await ssoSignIn(new CookieBrowser(), t.url, connA.id, 'fake-root')).location).toBe(
      '/login?sso_error=domain_not_allowed',
    );
  });

  it('refuses the password of a member of an SSO-only organization (403 sso_required), never a platform admin', async () => {
    const carol = await register(call, 'carol@default.test', 'carol password 1');
    const conn = await call<Connection>('POST', '/api/org/sso', {
      ...inOrg(admin, 'org_default'),
      body: connectionBody({ name: 'Default SSO only', ssoOnly: true }),
    });
    expect(conn.body.ssoOnly).toBe(true);
    const refused = await call<ErrorBody>('POST', '/api/auth/login', {
      body: { email: carol.email, password: 'carol password 1' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('sso_required');
    expect(refused.body.error.message).toContain('Default SSO only');
    // A wrong password still says only "incorrect" (nothing revealed to a guesser).
    const wrong = await call<ErrorBody>('POST', '/api/auth/login', {
      body: { email: carol.email, password: 'nope nope nope' },
    });
    expect(wrong.status).toBe(401);
    // The platform admin (owner of the Default organization) keeps the password.
    const root = await call('POST', '/api/auth/login', {
      body: { email: 'root@hub.test', password: 'correct horse 1' },
    });
    expect(root.status).toBe(200);
    // Acme's members (home elsewhere) are not covered by the Default organization's rule.
    await call('PATCH', `/api/org/sso/${conn.body.id}`, { ...inOrg(admin, 'org_default'), body: { ssoOnly: false } });
    const allowed = await call('POST', '/api/auth/login', {
      body: { email: carol.email, password: 'carol password 1' },
    });
    expect(allowed.status).toBe(200);
  });

  it('refuses a tampered state, a callback from another browser, and a replayed callback', async () => {
    const browser = new CookieBrowser();
    const start = await browser.fetch(`${t.url}/api/auth/sso/${connA.id}/start`);
    const callback = await loginAtIdp(browser, start.headers.get('location') as string, 'alice', callbackUrl);
    const binding = browser.cookie(t.url, 'aihub_sso') as string;
    expect(binding).toBeTruthy();
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    expect((await finishCallback(browser, t.url, tampered.href)).location).toBe('/login?sso_error=invalid_state');
    // The real callback in a browser that did not start the flow (login CSRF).
    expect((await finishCallback(new CookieBrowser(), t.url, callback)).location).toBe(
      '/login?sso_error=invalid_state',
    );
    // In the browser that started it, it still works (the refusals above did not use it up)…
    browser.cookies(t.url).set('aihub_sso', binding);
    expect((await finishCallback(browser, t.url, callback)).accessToken).toBeTruthy();
    // …once.
    browser.cookies(t.url).set('aihub_sso', binding);
    expect((await finishCallback(browser, t.url, callback)).location).toBe('/login?sso_error=invalid_state');
  });

  it('fails the code exchange with a forged code, and a used state cannot be replayed', async () => {
    const browser = new CookieBrowser();
    const start = await browser.fetch(`${t.url}/api/auth/sso/${connA.id}/start`);
    const callback = await loginAtIdp(browser, start.headers.get('location') as string, 'alice', callbackUrl);
    const bindingCookie = browser.cookie(t.url, 'aihub_sso') as string;
    const forged = new URL(callback);
    forged.searchParams.set('code', 'forged-code');
    expect((await finishCallback(browser, t.url, forged.href)).location).toBe('/login?sso_error=exchange_failed');
    // The real code after that: the state was used up.
    browser.cookies(t.url).set('aihub_sso', bindingCookie);
    expect((await finishCallback(browser, t.url, callback)).location).toBe('/login?sso_error=invalid_state');
  });

  it("keeps connections to their organization: another organization's admin gets 404, a developer 403", async () => {
    const betaOwner = await register(call, 'owner@beta.test');
    expect(
      (
        await call('POST', '/api/org/members', {
          ...inOrg(admin, orgB.id),
          body: { email: betaOwner.email, role: 'owner' },
        })
      ).status,
    ).toBe(201);
    const list = await call<{ data: Connection[] }>('GET', '/api/org/sso', inOrg(betaOwner, orgB.id));
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
    for (const [method, path, body] of [
      ['GET', `/api/org/sso/${connA.id}`, undefined],
      ['PATCH', `/api/org/sso/${connA.id}`, { name: 'mine now' }],
      ['DELETE', `/api/org/sso/${connA.id}`, undefined],
      ['GET', `/api/org/sso/${connA.id}/test`, undefined],
    ] as const) {
      const res = await call<ErrorBody>(method, path, { ...inOrg(betaOwner, orgB.id), body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // Naming Acme in the header does not help a non-member (the organization is not even confirmed to exist).
    expect((await call('GET', `/api/org/sso/${connA.id}`, inOrg(betaOwner, orgA.id))).status).toBe(404);
    // Nor do the instance-wide routes.
    expect((await call('GET', '/api/admin/sso', { token: betaOwner.token })).status).toBe(403);
    // A developer of Acme may not manage SSO.
    const dev = await register(call, 'dev@acme.test');
    await call('POST', '/api/org/members', { ...inOrg(admin, orgA.id), body: { email: dev.email, role: 'developer' } });
    const forbidden = await call<ErrorBody>('GET', '/api/org/sso', inOrg(dev, orgA.id));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.message).toContain('org.manage');
    expect((await call('GET', '/api/org/sso')).status).toBe(401);
    const still = await call<Connection>('GET', `/api/org/sso/${connA.id}`, inOrg(admin, orgA.id));
    expect(still.body.name).toBe('Acme Login');
  });

  it('lets an organization admin map only roles they may grant', async () => {
    const orgAdmin = await register(call, 'orgadmin@acme.test');
    await call('POST', '/api/org/members', {
      ...inOrg(admin, orgA.id),
      body: { email: orgAdmin.email, role: 'admin' },
    });
    const owner = await call<ErrorBody>('POST', '/api/org/sso', {
      ...inOrg(orgAdmin, orgA.id),
      body: connectionBody({ mappings: [{ claim: 'groups', value: '*', role: 'owner' }] }),
    });
    expect(owner.status).toBe(403);
    expect(owner.body.error.message).toMatch(/owner/);
    const defaultOwner = await call<ErrorBody>('POST', '/api/org/sso', {
      ...inOrg(orgAdmin, orgA.id),
      body: connectionBody({ defaultRole: 'owner' }),
    });
    expect(defaultOwner.status).toBe(403);
    const ok = await call<Connection>('POST', '/api/org/sso', {
      ...inOrg(orgAdmin, orgA.id),
      body: connectionBody({
        name: 'By the org admin',
        enabled: false,
        mappings: [{ claim: 'groups', value: 'eng', role: 'developer' }],
      }),
    });
    expect(ok.status).toBe(201);
    expect((await call('DELETE', `/api/org/sso/${ok.body.id}`, inOrg(orgAdmin, orgA.id))).status).toBe(204);
    expect((await auditRows(t, { action: 'sso.delete' }))[0]).toMatchObject({ targetId: ok.body.id });
  });

  it('runs a test sign-in: shows the claims and their mapping, signs nobody in, creates nobody', async () => {
    idp.setAccount({ sub: 'erin', email: 'erin@acme.test', email_verified: true, groups: ['eng', 'ops'] });
    const before = await countUsers(t);
    const browser = new CookieBrowser();
    // The console asks with its bearer token (the binding cookie lands in the same browser).
    const started = await browser.fetch(`${t.url}/api/org/sso/${connA.id}/test`, {
      headers: { authorization: `Bearer ${admin.token}`, 'x-aihub-organization': orgA.id },
    });
    expect(started.status).toBe(200);
    const { url, testId } = (await started.json()) as { url: string; testId: string };
    const pending = await call<{ status: string }>(
      'GET',
      `/api/org/sso/${connA.id}/tests/${testId}`,
      inOrg(admin, orgA.id),
    );
    expect(pending.body.status).toBe('pending');
    const callback = await loginAtIdp(browser, url, 'erin', callbackUrl);
    const landing = await finishCallback(browser, t.url, callback);
    expect(landing.location).toBe(`/org/sso?connection=${connA.id}&test=${testId}`);
    expect(browser.cookie(t.url, 'aihub_refresh')).toBeUndefined();
    expect(await countUsers(t)).toBe(before);
    const result = await call<{
      status: string;
      subject: string;
      email: string;
      claims: Record<string, unknown>;
      account: string;
      matchedRules: number[];
      memberships: Array<{
        orgId: string;
        orgName: string;
        role: string;
        teams: Array<{ teamId: string; teamName: string; role: string }>;
      }>;
    }>('GET', `/api/org/sso/${connA.id}/tests/${testId}`, inOrg(admin, orgA.id));
    expect(result.body).toMatchObject({
      status: 'ok',
      subject: 'erin',
      email: 'erin@acme.test',
      account: 'new',
      matchedRules: [0],
    });
    expect(result.body.claims.groups).toEqual(['eng', 'ops']);
    expect(result.body.memberships).toEqual([
      {
        orgId: orgA.id,
        orgName: 'Acme',
        role: 'admin',
        roleFromRule: true,
        teams: [{ teamId: teamEng.id, teamName: 'Engineering', role: 'admin' }],
      },
    ]);
    // Beta's admin cannot read Acme's test result.
    const other = await call('GET', `/api/org/sso/${connA.id}/tests/${testId}`, inOrg(admin, orgB.id));
    expect(other.status).toBe(404);
  });

  it('instance-wide connections: platform admins only, mapping into organizations, always on the login page', async () => {
    const created = await call<Connection>('POST', '/api/admin/sso', {
      token: admin.token,
      body: connectionBody({
        name: 'Company IdP',
        mappings: [{ claim: 'groups', value: 'beta-staff', organization: orgB.id, role: 'billing_manager' }],
      }),
    });
    expect(created.status).toBe(201);
    expect(created.body.orgId).toBeNull();
    expect((await call('GET', `/api/org/sso/${created.body.id}`, inOrg(admin, orgA.id))).status).toBe(404);
    const shown = await call<{ data: Array<{ id: string }> }>('GET', '/api/auth/sso/providers?email=someone@else.test');
    expect(shown.body.data.map((p) => p.id)).toContain(created.body.id);
    idp.setAccount({ sub: 'frank', email: 'frank@corp.test', email_verified: true, groups: ['beta-staff'] });
    const landing = await ssoSignIn(new CookieBrowser(), t.url, created.body.id, 'frank');
    const me = await call<Me>('GET', '/api/me', { token: landing.accessToken as string });
    expect(me.body.organization).toMatchObject({ id: orgB.id, role: 'billing_manager' });
    expect((await call('DELETE', `/api/admin/sso/${created.body.id}`, { token: admin.token })).status).toBe(204);
  });

  it('sends the person back to the login page when they cancel at the IdP (idp_error, audited)', async () => {
    const browser = new CookieBrowser();
    const start = await browser.fetch(`${t.url}/api/auth/sso/${connA.id}/start`);
    const interaction = await browser.follow(start.headers.get('location') as string, callbackUrl);
    // The IdP's "cancel" link: it answers the callback with error=access_denied.
    const callback = await browser.follow(`${interaction}/abort`, callbackUrl);
    expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
    const landing = await finishCallback(browser, t.url, callback);
    expect(landing.location).toBe('/login?sso_error=idp_error');
    const failed = await auditRows(t, { action: 'auth.sso_failed' });
    expect(failed[0]).toMatchObject({ targetId: connA.id, detail: expect.objectContaining({ code: 'idp_error' }) });
  });

  it('finishes on another instance than the one that started it (state in the shared database)', async () => {
    const other = await startTestApp({ engine, database: t.database, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    try {
      const browser = new CookieBrowser();
      const start = await browser.fetch(`${t.url}/api/auth/sso/${connA.id}/start`);
      const callback = await loginAtIdp(browser, start.headers.get('location') as string, 'alice', callbackUrl);
      // Behind a load balancer both instances have one address; here the browser carries its cookie over.
      const moved = callback.replace(t.url, other.url);
      browser.cookies(other.url).set('aihub_sso', browser.cookie(t.url, 'aihub_sso') as string);
      const landing = await finishCallback(browser, other.url, moved);
      expect(landing.location).toBe('/login?sso=done&next=%2F');
      const me = await call<Me>('GET', '/api/me', { token: landing.accessToken as string });
      expect(me.body.email).toBe('alice@acme.test');
    } finally {
      // The database is the first instance's: only this instance's server and services stop here.
      await other.app.close();
      await other.services.close();
    }
  });

  it('a disabled connection cannot be used to sign in', async () => {
    await call('PATCH', `/api/org/sso/${connA.id}`, { ...inOrg(admin, orgA.id), body: { enabled: false } });
    const landing = await ssoSignIn(new CookieBrowser(), t.url, connA.id, 'alice');
    expect(landing.location).toBe('/login?sso_error=unavailable');
    const providers = await call<{ data: unknown[] }>('GET', '/api/auth/sso/providers?email=a@acme.test');
    expect(providers.body.data).toEqual([]);
    await call('PATCH', `/api/org/sso/${connA.id}`, { ...inOrg(admin, orgA.id), body: { enabled: true } });
  });
});
