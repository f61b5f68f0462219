import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_KEY } from '../support/accounts.js';
import { client, ManualClock, register, startTestApp, type TestApp } from '../support/app.js';
import { ensureConsoleBuilt, HAVE_CHROMIUM, launch, openPage, screenshot, signIn } from '../support/browser.js';

const PASSWORD = 'correct horse battery';
const EMAIL = 'secure@example.com';

/**
 * Two-factor authentication through the console: an organization that requires it sends its member to the
 * Security page; they scan (here: read) the secret, confirm with a code, keep their recovery codes; the
 * sessions list shows this browser; after signing out, signing in takes the second step.
 */
describe.skipIf(!HAVE_CHROMIUM)('two-factor authentication in the console', { timeout: 90_000 }, () => {
  // The server's clock moves by hand (a code is accepted once per 30-second step); it starts at the real time
  // so that the browser keeps the session cookie.
  const clock = new ManualClock(Date.now());
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let secret = '';
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp({ clock, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    const call = client(t.url);
    await register(call, 'first-admin@example.com');
    await register(call, EMAIL, PASSWORD);
    const required = await call('PATCH', '/api/org', { token: MASTER_KEY, body: { require2fa: true } });
    expect(required.status).toBe(200);
    browser = await launch();
    ({ page, problems } = await openPage(browser, t.url));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const test = (name: string) => page.locator(`[data-test="${name}"]`);
  const code = () => generate({ secret, epoch: Math.floor(clock.now() / 1000) });

  async function fillSignIn(): Promise<void> {
    await page.goto('/login');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await test('submit').click();
  }

  it('sends a member of an organization that requires 2FA to the Security page, with the reason', async () => {
    await fillSignIn();
    await page.waitForURL(/\/security\?required=1/);
    await expect.poll(() => test('twofa-required').textContent()).toContain('requires two-factor authentication');
    // Other pages lead back here until they enrol.
    await page.goto('/keys');
    await page.waitForURL(/\/security/);
  });

  it('enrols: QR code and key, a code from the app, recovery codes shown once', async () => {
    await test('twofa-setup').click();
    await expect.poll(() => test('twofa-qr').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    secret = ((await test('twofa-secret').textContent()) ?? '').trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await screenshot(page, 'security-enrol');
    await test('twofa-enable-code').fill('000000');
    await test('twofa-enable').click();
    await expect.poll(() => test('twofa-error').textContent()).toContain('not right');
    await test('twofa-enable-code').fill(await code());
    await test('twofa-enable').click();
    await expect.poll(() => test('recovery-code').count()).toBe(10);
    recoveryCodes = (await test('recovery-code').allTextContents()).map((c) => c.trim());
    expect(recoveryCodes[0]).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    await screenshot(page, 'security-recovery-codes');
    await test('recovery-done').click();
    await expect.poll(() => test('twofa-state').textContent()).toContain('On');
    await expect.poll(() => test('twofa-codes-left').textContent()).toBe('10');
    // Enrolled: the other pages open again.
    await page.goto('/keys');
    await page.waitForURL('**/keys');
  });

  it('lists this browser among the sessions', async () => {
    await page.goto('/security');
    await expect.poll(() => test('session-current').count()).toBe(1);
    await expect.poll(() => test('sessions-table').textContent()).toContain('127.0.0.1');
    await screenshot(page, 'security-sessions');
  });

  it('signs in again with the second step: a wrong code is refused, the right one lets them in', async () => {
    await test('user-menu').click();
    await test('logout').click();
    await page.waitForURL(/\/login/);
    clock.advance(30_000); // the enrolment's code was used: the next one is of the next step
    await fillSignIn();
    await expect.poll(() => test('twofa-step').isVisible()).toBe(true);
    await test('twofa-code').fill('000000');
    await test('twofa-submit').click();
    await expect.poll(() => test('auth-error').textContent()).toContain('not right');
    await screenshot(page, 'security-second-step');
    await test('twofa-code').fill(await code());
    await test('twofa-submit').click();
    await page.waitForURL('**/dashboard');
  });

  it('takes a recovery code instead, once', async () => {
    await test('user-menu').click();
    await test('logout').click();
    await page.waitForURL(/\/login/);
    await fillSignIn();
    await test('twofa-toggle').click();
    await test('twofa-recovery-code').fill(recoveryCodes[0] as string);
    await test('twofa-submit').click();
    await page.waitForURL('**/dashboard');
    await page.goto('/security');
    await expect.poll(() => test('twofa-codes-left').textContent()).toBe('9');
    expect(problems.filter((p) => !p.includes('401') && !p.includes('403'))).toEqual([]);
  });

  it("lets an admin see the member's 2FA on the Members page and reset it for a lost device", async () => {
    const call = client(t.url);
    // The admin has no second factor: lift the requirement so they can work without enrolling here.
    expect((await call('PATCH', '/api/org', { token: MASTER_KEY, body: { require2fa: false } })).status).toBe(200);
    const admin = await openPage(browser, t.url);
    await signIn(admin.page, 'first-admin@example.com', 'correct horse 1');
    await admin.page.goto('/org/members');
    const row = admin.page.locator('[data-test="members-table"] tr', { hasText: EMAIL });
    await expect.poll(() => row.locator('[data-test="member-2fa"]').textContent()).toContain('2FA on');
    await row.locator('[data-test="member-reset-2fa"]').click();
    await admin.page.locator('.el-message-box__btns .el-button--primary').click();
    await expect.poll(() => row.locator('[data-test="member-2fa"]').textContent()).toContain('2FA off');
    expect(await row.locator('[data-test="member-reset-2fa"]').count()).toBe(0);
    const members = await call<{ data: Array<{ email: string; twoFactor: boolean }> }>('GET', '/api/org/members', {
      token: MASTER_KEY,
    });
    expect(members.body.data.find((m) => m.email === EMAIL)?.twoFactor).toBe(false);
    expect(admin.problems).toEqual([]);
    await admin.page.close();
  });
});
