import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_KEY } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  ensureConsoleBuilt,
  HAVE_CHROMIUM,
  launch,
  openPage,
  screenshot,
  settled,
  signIn,
} from '../support/browser.js';

const PASSWORD = 'correct horse battery';

/** An Element Plus input by its data-test (on the input itself, or on a wrapper). */
const field = (page: Page, test: string) => page.locator(`input[data-test="${test}"], [data-test="${test}"] input`);

/**
 * Billing in a real Chromium: a platform admin generates a batch of redemption codes on the admin page, then
 * redeems one on the Billing page and sees the balance move and the ledger entry appear; a wrong code is
 * refused in words.
 */
describe.skipIf(!HAVE_CHROMIUM)('billing pages in Chromium', { timeout: 90_000 }, () => {
  let t: TestApp;
  let browser: Browser;

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

  it('generates codes, redeems one and shows the balance move', async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await signIn(page, 'admin@example.com', PASSWORD);

    await page.locator('nav').getByText('Billing & codes').click();
    await page.waitForURL('**/admin/billing');
    await page.getByRole('tab', { name: 'Redemption codes' }).click();
    await page.locator('[data-test="batch-open"]').click();
    await field(page, 'batch-name').fill('Browser batch');
    await field(page, 'batch-amount').fill('5');
    await field(page, 'batch-count').fill('2');
    await page.locator('[data-test="batch-create"]').click();
    const codesBox = page.locator('textarea[data-test="batch-codes"], [data-test="batch-codes"] textarea');
    await expect.poll(() => codesBox.inputValue()).toMatch(/^[A-Z2-9-]{19}\n[A-Z2-9-]{19}$/);
    const code = (await codesBox.inputValue()).split('\n')[0] as string;
    await page.locator('[data-test="batch-codes-close"]').click();
    await expect.poll(() => page.locator('[data-test="batches-table"]').textContent()).toContain('Browser batch');
    await screenshot(page, 'billing-admin-codes');

    await page.locator('nav').getByText('Billing', { exact: true }).click();
    await page.waitForURL('**/billing');
    await settled(page);
    const balance = page.locator('[data-test="billing-balance"]');
    await expect.poll(() => balance.textContent()).toBe('$0.00');
    await field(page, 'redeem-code').fill(code.toLowerCase());
    await page.locator('[data-test="redeem-submit"]').click();
    await expect.poll(() => balance.textContent()).toBe('$5.00');
    await expect
      .poll(() => page.locator('[data-test="billing-transactions"]').textContent())
      .toContain('Code redeemed');
    await screenshot(page, 'billing-portal');
    expect(problems).toEqual([]);

    // The same code again: refused in words, the balance unchanged.
    await field(page, 'redeem-code').fill(code);
    await page.locator('[data-test="redeem-submit"]').click();
    await expect
      .poll(() => page.locator('[data-test="redeem-error"]').textContent())
      .toContain('already redeemed this code');
    expect(await balance.textContent()).toBe('$5.00');

    // Back on the admin page: the organization's wallet, with low-balance thresholds set.
    await page.locator('nav').getByText('Billing & codes').click();
    await page.waitForURL('**/admin/billing');
    const wallets = page.locator('[data-test="wallets-table"]');
    await expect.poll(() => wallets.textContent()).toContain('$5.00');
    await page.locator('[data-test="wallet-notices"]').first().click();
    await field(page, 'notice-thresholds').fill('10, 1');
    await page.locator('[data-test="notice-save"]').click();
    await expect.poll(() => wallets.textContent()).toContain('$10.00, $1.00');
    const wallet = await t.services.billing.service.wallet(
      (await t.services.billing.service.listWallets())[0]?.orgId as string,
    );
    expect(wallet.lowBalanceThresholds).toEqual([10_000_000, 1_000_000]);
    await context.close();
  });

  it("tops up a team's wallet from the balances page", async () => {
    const orgId = (await t.services.billing.service.listWallets())[0]?.orgId as string;
    const team = await fetch(`${t.url}/api/org/teams`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${MASTER_KEY}`,
        'x-aihub-organization': orgId,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'Research' }),
    });
    expect(team.status).toBe(201);
    const teamId = ((await team.json()) as { id: string }).id;
    const { page, problems, context } = await openPage(browser, t.url);
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.goto('/admin/billing');
    await settled(page);
    await page.locator('[data-test="wallet-members"]').first().click();
    const dialog = page.locator('[data-test="member-wallets-dialog"]');
    await expect.poll(() => dialog.locator('[data-test="member-wallets-mode"]').textContent()).toContain('off');
    await expect
      .poll(() => dialog.locator('[data-test="member-wallets-table"]').textContent())
      .toContain('No team or user wallet');
    await dialog.locator('[data-test="member-wallet-owner"]').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: 'Team: Research' }).first().click();
    await field(page, 'member-wallet-amount').fill('7');
    await field(page, 'member-wallet-reason').fill('Q1 budget');
    await page.locator('[data-test="member-wallet-submit"]').click();
    await expect.poll(() => dialog.locator('[data-test="member-wallets-table"]').textContent()).toContain('$7.00');
    expect(await dialog.locator('[data-test="member-wallets-table"]').textContent()).toContain('Research');
    // Turn team wallets on from the dialog (the platform setting).
    await dialog.locator('[data-test="member-wallets-setting"]').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: 'Team wallets' }).first().click();
    await expect.poll(() => t.services.settings.get().billingMemberWallets).toBe('team');
    await expect
      .poll(() => dialog.locator('[data-test="member-wallets-mode"]').textContent())
      .toContain('On for teams');
    const [member] = await t.services.billing.service.memberWallets(orgId);
    expect(member).toMatchObject({ ownerType: 'team', ownerId: teamId, balanceMicros: 7_000_000 });
    expect(await t.services.billing.service.verify()).toEqual([]);
    await screenshot(page, 'billing-admin-member-wallets');
    expect(problems).toEqual([]);
    await context.close();
  });
});
