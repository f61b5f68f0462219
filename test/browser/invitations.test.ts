import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_KEY } from '../support/accounts.js';
import { client, startTestApp, type TestApp } from '../support/app.js';
import { ensureConsoleBuilt, HAVE_CHROMIUM, launch, openPage, screenshot, signIn } from '../support/browser.js';

const PASSWORD = 'correct horse battery';

/**
 * Sign-in by mail in a real Chromium, on a hub without SMTP: an admin invites someone and gets the accept
 * link to pass on; the invitee opens it signed out, creates the account and lands in the console as a member;
 * a self-registered user sees the unverified-email banner and asks for a new link; "Forgot password?" works.
 */
describe.skipIf(!HAVE_CHROMIUM)('invitations and mail pages in Chromium', { timeout: 60_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let acceptUrl = '';

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp({ env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    await t.services.users.create({ email: 'admin@example.com', password: PASSWORD, name: 'Admin', role: 'admin' });
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('lets an admin invite by email and shows the accept link when no mail server is configured', async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.locator('nav').getByText('Invitations').click();
    await page.waitForURL('**/org/invitations');
    await page.locator('[data-test="invite-open"]').click();
    await page
      .locator('input[data-test="invite-email"], [data-test="invite-email"] input')
      .fill('newcomer@example.com');
    await page.locator('[data-test="invite-submit"]').click();
    const link = page.locator('input[data-test="invite-link"], [data-test="invite-link"] input');
    await expect.poll(() => link.inputValue()).toMatch(/\/invite\/\S+$/);
    acceptUrl = await link.inputValue();
    expect(acceptUrl.startsWith(t.url)).toBe(true);
    await screenshot(page, 'invitations-link');
    await page.locator('[data-test="invite-link-close"]').click();
    await expect
      .poll(() => page.locator('[data-test="invitations-table"]').textContent())
      .toContain('newcomer@example.com');
    expect(await page.locator('[data-test="invitation-status"]').first().textContent()).toContain('Pending');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('accepts the invitation as a new user: the account is created, signed in and a member', async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await page.goto(new URL(acceptUrl).pathname);
    await expect
      .poll(() => page.locator('[data-test="invite-summary"]').textContent())
      .toContain('join Default as Developer');
    await screenshot(page, 'invitation-accept');
    await page.getByLabel('Name (optional)').fill('New Comer');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.locator('[data-test="submit"]').click();
    await page.waitForURL('**/dashboard**');
    await expect.poll(() => page.locator('[data-test="user-menu"]').textContent()).toContain('New Comer');
    // Invited accounts count as verified: no banner.
    expect(await page.locator('[data-test="unverified-banner"]').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();

    const user = await t.services.users.findByEmail('newcomer@example.com');
    expect(user?.email_verified_at).not.toBeNull();
    const members = await client(t.url)<{ data: Array<{ email: string; role: string }> }>('GET', '/api/org/members', {
      token: MASTER_KEY,
    });
    expect(members.body.data).toContainEqual(
      expect.objectContaining({ email: 'newcomer@example.com', role: 'developer' }),
    );
  });

  it('shows a self-registered user the unverified banner with a working "send a new link"', async () => {
    const { page, context } = await openPage(browser, t.url);
    await page.goto('/register');
    await page.getByLabel('Email').fill('self@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.locator('[data-test="submit"]').click();
    await page.waitForURL('**/dashboard');
    await expect
      .poll(() => page.locator('[data-test="unverified-banner"]').textContent())
      .toContain('self@example.com');
    const before = t.services.mailer.outbox().filter((m) => m.to === 'self@example.com').length;
    await page.locator('[data-test="resend-verification"]').click();
    await expect
      .poll(() => t.services.mailer.outbox().filter((m) => m.to === 'self@example.com').length)
      .toBe(before + 1);

    // The link from the outbox verifies the address, and the banner goes.
    const link = t.services.mailer.outbox().find((m) => m.to === 'self@example.com')?.link ?? '';
    await page.goto(new URL(link).pathname + new URL(link).search);
    await expect.poll(() => page.locator('[data-test="verified"]').textContent()).toContain('self@example.com');
    await page.goto('/dashboard');
    await expect.poll(() => page.locator('[data-test="user-menu"]').count()).toBe(1);
    expect(await page.locator('[data-test="unverified-banner"]').count()).toBe(0);
    await context.close();
  });

  it('offers "Forgot password?" on the sign-in page and resets the password with the emailed link', async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await page.goto('/login');
    await page.locator('[data-test="forgot-link"]').click();
    await page.waitForURL('**/forgot-password');
    await page.getByLabel('Email').fill('newcomer@example.com');
    await page.locator('[data-test="submit"]').click();
    await expect.poll(() => page.locator('[data-test="forgot-sent"]').textContent()).toContain('newcomer@example.com');
    const link = t.services.mailer.outbox().find((m) => m.kind === 'password_reset')?.link ?? '';
    await page.goto(new URL(link).pathname + new URL(link).search);
    await page.getByLabel('New password').fill('a brand new secret');
    await page.getByLabel('Repeat password').fill('a brand new secret');
    await page.locator('[data-test="submit"]').click();
    await page.waitForURL('**/login?reset=1');
    await signIn(page, 'newcomer@example.com', 'a brand new secret');
    expect(problems).toEqual([]);
    await context.close();
  });
});
