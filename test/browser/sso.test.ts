import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ensureConsoleBuilt, HAVE_CHROMIUM, launch, openPage, screenshot, signIn } from '../support/browser.js';
import { type FakeIdp, startFakeIdp } from '../support/fakes/oidc.js';

const PASSWORD = 'correct horse 1';

/**
 * Single sign-on in a real Chromium against a real OpenID Provider: the login page offers "Sign in with …"
 * for the typed email's domain, the IdP's login form, the way back signed in; and an admin's test sign-in
 * from the SSO page, in a popup, with the claims shown.
 */
describe.skipIf(!HAVE_CHROMIUM)('single sign-on in Chromium', { timeout: 90_000 }, () => {
  let t: TestApp;
  let idp: FakeIdp;
  let browser: Browser;
  let admin: SignedIn;
  let connectionId: string;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp();
    idp = await startFakeIdp({ redirectUris: [`${t.url}/api/auth/sso/callback`] });
    idp.setAccount({ sub: 'alice', email: 'alice@acme.test', email_verified: true, name: 'Alice', groups: ['eng'] });
    const call = client(t.url);
    admin = await register(call, 'admin@hub.test', PASSWORD);
    const created = await call<{ id: string }>('POST', '/api/org/sso', {
      token: admin.token,
      body: {
        name: 'Acme Login',
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        scopes: 'openid email profile groups',
        emailDomains: ['acme.test'],
        mappings: [{ claim: 'groups', value: 'eng', role: 'developer' }],
      },
    });
    expect(created.status).toBe(201);
    connectionId = created.body.id;
    browser = await launch();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await idp?.close();
  });

  it('signs a new person in: the button for their email domain, the IdP, back on the console signed in', async () => {
    const { context, page, problems } = await openPage(browser, t.url);
    await page.goto('/login?next=%2Fkeys');
    const button = page.locator(`[data-test="sso-${connectionId}"]`);
    expect(await button.count()).toBe(0);
    await page.getByLabel('Email').fill('alice@acme.test');
    await button.waitFor();
    expect(await button.textContent()).toContain('Sign in with Acme Login');
    await screenshot(page, 'sso-01-login-button');
    expect(problems).toEqual([]);
    await button.click();
    // The IdP's own login form.
    await page.waitForURL(`${idp.issuer}/**`);
    await page.locator('input[name="login"]').fill('alice');
    await page.locator('input[name="password"]').fill('anything');
    // (The IdP's development page fetches a web font and a favicon that do not exist here: not ours.)
    problems.length = 0;
    await page.locator('button[type="submit"]').click();
    // Back on the console, signed in, where the person was going.
    await page.waitForURL('**/keys');
    const me = await page.evaluate(async () => {
      const refreshed = await fetch('/api/auth/refresh', { method: 'POST' });
      return (await refreshed.json()) as { user: { email: string } };
    });
    expect(me.user.email).toBe('alice@acme.test');
    await screenshot(page, 'sso-02-signed-in');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows why a sign-in failed, in words', async () => {
    const { context, page } = await openPage(browser, t.url);
    await page.goto('/login?sso_error=account_conflict');
    await expect
      .poll(() => page.locator('[data-test="auth-error"]').textContent())
      .toContain('already exists outside this organization');
    await context.close();
  });

  it("lets an admin copy the redirect URI and run a test sign-in that shows the IdP's claims", async () => {
    const { context, page } = await openPage(browser, t.url);
    await signIn(page, admin.email, PASSWORD);
    await page.goto('/org/sso');
    await expect
      .poll(() => page.locator('[data-test="sso-redirect-uri"]').textContent())
      .toContain(`${t.url}/api/auth/sso/callback`);
    await expect.poll(() => page.locator('[data-test="sso-table"]').textContent()).toContain('Acme Login');
    await screenshot(page, 'sso-03-admin-page');
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      page.locator(`[data-test="sso-test-${connectionId}"]`).click(),
    ]);
    await popup.waitForURL(`${idp.issuer}/**`);
    idp.setAccount({ sub: 'tester', email: 'tester@acme.test', email_verified: true, groups: ['eng'] });
    await popup.locator('input[name="login"]').fill('tester');
    await popup.locator('input[name="password"]').fill('anything');
    await popup.locator('button[type="submit"]').click();
    // The popup lands on the SSO page with the result; the first window shows it too.
    await popup.waitForURL('**/org/sso?**');
    for (const where of [popup, page]) {
      await expect
        .poll(() => where.locator('[data-test="sso-test-result"]').textContent(), { timeout: 15_000 })
        .toContain('tester@acme.test');
      expect(await where.locator('[data-test="sso-test-account"]').textContent()).toContain('Creates a new account');
      expect(await where.locator('[data-test="sso-test-memberships"]').textContent()).toContain('developer');
    }
    await screenshot(popup, 'sso-04-test-result');
    await context.close();
  });
});
