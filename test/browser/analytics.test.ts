import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, register, startTestApp, type TestApp } from '../support/app.js';
import { ensureConsoleBuilt, HAVE_CHROMIUM, launch, openPage, SIZES, screenshot, signIn } from '../support/browser.js';
import { logRow } from '../support/log-rows.js';

const PASSWORD = 'correct horse battery';

/**
 * The Analytics page (admin) and the dashboard's "My usage" at desktop and phone size: totals and the top-N
 * table from the rollups, the group-by switcher, a saved view, the drill-down into the request log with its
 * filters set, and the spend column of the key list.
 */
describe.skipIf(!HAVE_CHROMIUM)('the Analytics page of the console', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let keyId: string;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp();
    const call = client(t.url);
    const admin = await register(call, 'analytics-admin@example.com', PASSWORD);
    const created = await call<{ key: { id: string } }>('POST', '/api/keys', {
      token: admin.token,
      body: { name: 'reporting' },
    });
    keyId = created.body.key.id;
    expect(keyId).toMatch(/^key_/);
    const user = await t.services.users.findByEmail('analytics-admin@example.com');
    const now = Date.now();
    for (let i = 0; i < 30; i++) {
      const row = logRow({
        id: `req_browser_${String(i).padStart(4, '0')}`,
        at: now - i * 60_000,
        user_id: admin.userId,
        key_id: keyId,
        org_id: user?.org_id ?? null,
        model: i % 3 === 0 ? 'claude-3' : 'gpt-4o',
        status: i % 10 === 0 ? 502 : 200,
        prompt_tokens: 100,
        completion_tokens: 50,
        cost_micros: 1_000,
        price_micros: 2_000,
        latency_ms: 200 + i * 10,
      });
      t.services.recorder.record(row);
    }
    await t.services.recorder.flush();
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const test = (page: Page, name: string) => page.locator(`[data-test="${name}"]`);

  for (const size of SIZES) {
    it(`shows totals, top models, saved views and drills into the log (${size.name})`, async () => {
      const { page, problems, context } = await openPage(browser, t.url, { viewport: size });
      await signIn(page, 'analytics-admin@example.com', PASSWORD);
      await page.goto('/admin/analytics');
      await expect.poll(() => test(page, 'total-requests').textContent(), { timeout: 15_000 }).toBe('30');
      const table = test(page, 'top-table');
      await expect.poll(() => table.textContent()).toContain('gpt-4o');
      await expect.poll(() => table.textContent()).toContain('claude-3');
      await screenshot(page, `analytics-${size.name}`);
      // Save the view: it is listed afterwards.
      await test(page, 'save-view').click();
      await expect.poll(() => test(page, 'views').count(), { timeout: 10_000 }).toBe(1);
      // Drill down: the request log opens with the model filter set.
      await table.getByRole('button', { name: 'claude-3' }).click();
      await page.waitForURL('**/admin/logs?**');
      expect(new URL(page.url()).searchParams.get('model')).toBe('claude-3');
      await expect.poll(() => page.locator('.el-table__row').count(), { timeout: 10_000 }).toBe(10);
      expect(problems).toEqual([]);
      await context.close();
    });
  }

  it('shows my usage on the dashboard and the spend per key in the key list', async () => {
    const { page, problems, context } = await openPage(browser, t.url, { viewport: SIZES[1] });
    await signIn(page, 'analytics-admin@example.com', PASSWORD);
    await expect.poll(() => test(page, 'dash-analytics').count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => test(page, 'total-requests').textContent(), { timeout: 15_000 }).toBe('30');
    await screenshot(page, 'dashboard-analytics-phone');
    await page.goto('/keys');
    // 30 requests × 2,000 micro-units of list price = $0.06.
    // The key that made them (the list may hold others with no spend).
    await expect
      .poll(async () => (await test(page, 'key-spend').allTextContents()).join(' '), { timeout: 15_000 })
      .toContain('0.06');
    expect(problems).toEqual([]);
    await context.close();
  });
});
