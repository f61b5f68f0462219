import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_KEY } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  ensureConsoleBuilt,
  HAVE_CHROMIUM,
  launch,
  openPage,
  SIZES,
  screenshot,
  settled,
  signIn,
} from '../support/browser.js';
import { type FakeStripe, SECRET_KEY, startFakeStripe, WEBHOOK_SECRET } from '../support/fakes/stripe.js';

const PASSWORD = 'correct horse battery';

/** An Element Plus input by its data-test (on the input itself, or on a wrapper). */
const field = (page: Page, test: string) => page.locator(`input[data-test="${test}"], [data-test="${test}"] input`);

/**
 * Stripe in a real Chromium, against the local Stripe fake: a platform admin creates a plan on the admin page;
 * on the Billing page the balance is topped up through Checkout (the fake's page pays, redirects back and then
 * sends the signed webhook, as Stripe may) and moves once credited; at desktop and phone size. Without Stripe
 * configured the page says so.
 */
describe.skipIf(!HAVE_CHROMIUM)('Stripe payments in Chromium', { timeout: 120_000 }, () => {
  let t: TestApp;
  let stripe: FakeStripe;
  let browser: Browser;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    stripe = await startFakeStripe();
    t = await startTestApp({
      env: {
        AIHUB_MASTER_KEY: MASTER_KEY,
        STRIPE_SECRET_KEY: SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_URL: stripe.url,
      },
    });
    stripe.webhookUrl = `${t.url}/api/billing/stripe/webhook`;
    await t.services.users.create({ email: 'admin@example.com', password: PASSWORD, name: 'Admin', role: 'admin' });
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await stripe?.close();
  });

  it('creates a plan on the admin page', async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.goto('/admin/billing');
    await page.getByRole('tab', { name: 'Plans' }).click();
    await page.locator('[data-test="plan-new"]').click();
    await field(page, 'plan-name').fill('Pro');
    await field(page, 'plan-price').fill('20');
    await field(page, 'plan-credits').fill('10');
    await page.locator('[data-test="plan-create"]').click();
    await expect.poll(() => page.locator('[data-test="plans-table"]').textContent()).toContain('Pro');
    expect(stripe.calls.some((c) => c.path === '/v1/prices' && c.params.unit_amount === '2000')).toBe(true);
    await page.getByRole('tab', { name: 'Stripe' }).click();
    await expect
      .poll(() => page.locator('[data-test="stripe-status"]').textContent())
      .toContain('Payments are configured');
    await screenshot(page, 'stripe-admin-plans');
    expect(problems).toEqual([]);
    await context.close();
  });

  // Real Stripe sends the customer back and the webhook independently; here the fake sends the webhook 1.5 s
  // after the redirect, so the page must say "payment processing" and move the balance once it is credited.
  it('tops up through Stripe Checkout and sees the balance move', async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.goto('/billing');
    await settled(page);
    const balance = page.locator('[data-test="billing-balance"]');
    const serverBalance = async () => (await t.services.billing.service.listWallets())[0]?.balanceMicros ?? 0;
    const before = await serverBalance();
    const money = (micros: number) => `$${(micros / 1_000_000).toFixed(2)}`;
    await expect.poll(() => balance.textContent()).toBe(money(before));
    await expect.poll(() => page.locator('[data-test="plan-card"]').textContent()).toContain('Pro');
    await field(page, 'topup-amount').fill('25');
    stripe.webhookDelayMs = 1500;
    try {
      // Off to the fake's Checkout page, which sends the browser back and then tells the hub.
      const back = page.waitForResponse((r) => r.url().startsWith(`${t.url}/billing?checkout=success&session_id=cs_`));
      await page.locator('[data-test="topup-submit"]').click();
      await back;
      await expect
        .poll(() => page.locator('[data-test="payment-processing"]').textContent(), { timeout: 10_000 })
        .toContain('Payment processing');
      await expect.poll(serverBalance, { timeout: 15_000 }).toBe(before + 25_000_000);
      await expect.poll(() => balance.textContent(), { timeout: 10_000 }).toBe(money(before + 25_000_000));
    } finally {
      stripe.webhookDelayMs = undefined;
    }
    await expect.poll(() => page.locator('[data-test="payment-processing"]').count()).toBe(0);
    await expect.poll(() => page.locator('[data-test="billing-transactions"]').textContent()).toContain('Top-up');
    await screenshot(page, 'stripe-portal-desktop');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the top-up and plan cards at phone size', async () => {
    const phone = SIZES.find((s) => s.name === 'phone') ?? SIZES[1];
    const { page, problems, context } = await openPage(browser, t.url, { viewport: phone });
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.goto('/billing');
    await settled(page);
    await expect.poll(() => page.locator('[data-test="plan-card"]').textContent()).toContain('Pro');
    await expect(page.locator('[data-test="topup-submit"]').isVisible()).resolves.toBe(true);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await screenshot(page, 'stripe-portal-phone');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe.skipIf(!HAVE_CHROMIUM)('Stripe not configured, in Chromium', { timeout: 120_000 }, () => {
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

  it('says payments are not configured; redemption stays', async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.goto('/billing');
    await settled(page);
    await expect
      .poll(() => page.locator('[data-test="payments-not-configured"]').textContent())
      .toContain('Online payments are not set up');
    expect(await page.locator('[data-test="topup-card"]').count()).toBe(0);
    expect(await page.locator('[data-test="redeem-code"]').count()).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });
});
