import { readFile } from 'node:fs/promises';
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

const PASSWORD = 'correct horse battery';
const DAY = 86_400_000;

/**
 * Statements and revenue in a real Chromium, at desktop and phone size: the portal's Invoices page lists the
 * organization's statement and downloads it as CSV and PDF (and shows Stripe's hosted invoices only where that
 * route answers); the admin's Statements & revenue page draws list price vs cost with the period's totals.
 */
describe.skipIf(!HAVE_CHROMIUM)('statements and revenue in Chromium', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let number: string;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp({ env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    await t.services.users.create({ email: 'admin@example.com', password: PASSWORD, name: 'Admin', role: 'admin' });
    const db = t.database.handle.db;
    const org = await db
      .selectFrom('organizations')
      .select('id')
      .where('slug', '=', 'default')
      .executeTakeFirstOrThrow();
    const now = new Date();
    // Two months back: outside the daily chart's 30 days, inside the monthly chart's 12 months.
    const lastMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 10);
    // Usage of an earlier month (for the statement) and of yesterday (for the daily chart): list price 3, cost 2.
    for (const [i, at] of [lastMonth, Date.now() - DAY].entries())
      await db
        .insertInto('request_logs')
        .values({
          id: `req_browser${i}`,
          at,
          user_id: null,
          key_id: null,
          org_id: org.id,
          team_id: null,
          channel_id: null,
          model: 'gpt-browser',
          upstream_model: null,
          endpoint: 'chat',
          stream: 0,
          status: 200,
          error_code: null,
          prompt_tokens: 100,
          completion_tokens: 50,
          cached_tokens: 0,
          reasoning_tokens: 0,
          estimated: 0,
          cost_micros: 2_000_000,
          price_micros: 3_000_000,
          latency_ms: 10,
          ttft_ms: null,
          client_ip: null,
          attempts: null,
          request_body: null,
          response_body: null,
        })
        .execute();
    await t.services.settings.update({ operatorName: 'Browser Hub Ltd' });
    const period = new Date(lastMonth).toISOString().slice(0, 7);
    const run = await t.services.statements.run({ period, orgId: org.id });
    number = run.issued[0] as string;
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const download = async (page: Page, test: string) => {
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`[data-test="${test}"]`).first().click(),
    ]);
    return { name: file.suggestedFilename(), body: await readFile((await file.path()) as string) };
  };

  it.each(SIZES)('downloads a statement as CSV and PDF from Invoices ($name)', async (size) => {
    const { page, problems, context } = await openPage(browser, t.url, { viewport: size });
    const missing: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 404) missing.push(new URL(response.url()).pathname);
    });
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.goto('/invoices');
    await settled(page);
    const table = page.locator('[data-test="statements"]');
    await expect.poll(() => table.textContent()).toContain(number);
    expect(await table.textContent()).toContain('$3.00');
    // No payments configured: no Stripe section, and no error.
    expect(await page.locator('[data-test="stripe-invoices"]').count()).toBe(0);

    const csv = await download(page, 'statement-csv');
    expect(csv.name).toBe(`${number}.csv`);
    expect(csv.body.toString()).toContain('operator,Browser Hub Ltd');
    expect(csv.body.toString()).toContain('gpt-browser,,,1,100,50,3.00');
    const pdf = await download(page, 'statement-pdf');
    expect(pdf.name).toBe(`${number}.pdf`);
    expect(pdf.body.subarray(0, 5).toString()).toBe('%PDF-');
    await screenshot(page, `statements-portal-${size.name}`);
    // Nothing was missing (the Stripe invoices route answers an empty list without payments), nothing went wrong.
    expect([...new Set(missing)]).toEqual([]);
    expect(problems.filter((p) => !p.includes('status of 404'))).toEqual([]);
    await context.close();
  });

  it("lists Stripe's hosted invoices where that route answers", async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await page.route('**/api/billing/stripe-invoices', (route) =>
      route.fulfill({
        json: {
          data: [
            {
              id: 'in_1',
              number: 'STRIPE-0001',
              hostedInvoiceUrl: 'https://invoice.stripe.com/i/acct_1/test_1',
              amountMicros: 20_000_000,
              currency: 'usd',
              status: 'paid',
            },
          ],
        },
      }),
    );
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.goto('/invoices');
    const stripe = page.locator('[data-test="stripe-invoices"]');
    await expect.poll(() => stripe.textContent()).toContain('STRIPE-0001');
    expect(await stripe.locator('a').getAttribute('href')).toBe('https://invoice.stripe.com/i/acct_1/test_1');
    expect(problems).toEqual([]);
    await context.close();
  });

  it.each(SIZES)('draws revenue and margin over time for the admin ($name)', async (size) => {
    const { page, problems, context } = await openPage(browser, t.url, { viewport: size });
    await signIn(page, 'admin@example.com', PASSWORD);
    await page.goto('/admin/statements');
    await settled(page);
    await expect.poll(() => page.locator('[data-test="revenue-price"]').textContent()).toBe('$3.00');
    expect(await page.locator('[data-test="revenue-cost"]').textContent()).toBe('$2.00');
    expect(await page.locator('[data-test="revenue-margin"]').textContent()).toBe('$1.00');
    const canvas = page.locator('[data-test="revenue-chart"] canvas');
    await expect.poll(() => canvas.count()).toBeGreaterThan(0);
    const box = await canvas.first().boundingBox();
    expect(box?.width).toBeGreaterThan(size.width / 2);
    // Per month: both months' usage.
    await page.locator('[data-test="revenue-interval"]').getByText('Per month').click();
    await expect.poll(() => page.locator('[data-test="revenue-price"]').textContent()).toBe('$6.00');
    await expect.poll(() => page.locator('[data-test="admin-statements"]').textContent()).toContain(number);
    await screenshot(page, `statements-admin-${size.name}`);
    // Nothing wider than the screen.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    expect(problems).toEqual([]);
    await context.close();
  });
});
