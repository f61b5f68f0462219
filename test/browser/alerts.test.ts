import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HookReceiver, startHookReceiver } from '../support/alerts.js';
import { client, register, startTestApp, type TestApp } from '../support/app.js';
import { ensureConsoleBuilt, HAVE_CHROMIUM, launch, openPage, SIZES, screenshot, signIn } from '../support/browser.js';

const PASSWORD = 'correct horse battery';

/**
 * The admin's Alerts page at desktop and phone size: add a webhook destination (its generated secret shown
 * once), send it a test, add a rule that sends to it, see it fire in the list and in the history.
 */
describe.skipIf(!HAVE_CHROMIUM)('the Alerts page of the console', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let hook: HookReceiver;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    hook = await startHookReceiver();
    t = await startTestApp();
    await register(client(t.url), 'alerts-admin@example.com', PASSWORD);
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await hook?.close();
  });

  it.each(SIZES)('manages destinations and rules and shows the history ($name)', async (size) => {
    const { page, problems, context } = await openPage(browser, t.url, { viewport: size });
    const test = (name: string) => page.locator(`[data-test="${name}"]`);
    await signIn(page, 'alerts-admin@example.com', PASSWORD);
    await page.goto('/admin/alerts');
    await page.getByRole('tab', { name: 'Destinations' }).click();
    await test('alert-destination-create').click();
    await test('alert-destination-name').fill(`ops ${size.name}`);
    await test('alert-destination-url').fill(`${hook.url}/${size.name}`);
    await test('alert-destination-submit').click();
    await expect.poll(() => test('alert-destination-secret').textContent()).toMatch(/^whsec_/);
    await page.locator('.el-message-box__btns button').click();
    const destination = (await t.services.alerts.service.listDestinations()).find((d) => d.name === `ops ${size.name}`);
    expect(destination).toBeDefined();
    await test(`alert-destination-test-${destination?.id}`).click();
    await expect
      .poll(() => hook.received.some((h) => h.path === `/${size.name}` && h.body.event === 'alert.test'))
      .toBe(true);

    await page.getByRole('tab', { name: 'Rules' }).click();
    await test('alert-rule-create').click();
    await test('alert-rule-name').fill(`usage ${size.name}`);
    await test('alert-rule-kind').click();
    await page.locator('[data-test="alert-kind-usage_backlog"]:visible').click();
    await test(`alert-rule-dest-${destination?.id}`).click();
    await test('alert-rule-submit').click();
    // The dialog saves asynchronously: wait for the rule to exist before looking for its row.
    const findRule = async () =>
      (await t.services.alerts.service.listRules()).find((r) => r.name === `usage ${size.name}`);
    await expect.poll(findRule).toBeDefined();
    const rule = await findRule();
    await expect.poll(() => test(`alert-rule-name-${rule?.id}`).count()).toBe(1);
    expect(rule).toMatchObject({ kind: 'usage_backlog', threshold: 0, destinationIds: [destination?.id] });

    // A threshold of -1 cannot be typed; make it fire by hand: the history shows it.
    await t.database.handle.db
      .updateTable('alert_rules')
      .set({ threshold: -1 })
      .where('id', '=', rule?.id ?? '')
      .execute();
    const events = await t.services.alerts.evaluator.evaluate();
    expect(events.filter((e) => e.rule_id === rule?.id)).toHaveLength(1);
    await test('alert-rules-refresh').click();
    await expect.poll(() => test(`alert-rule-state-${rule?.id}`).textContent()).toContain('1 firing');
    await page.getByRole('tab', { name: 'History' }).click();
    const event = events.find((e) => e.rule_id === rule?.id);
    await expect
      .poll(() => test(`alert-event-message-${event?.id}`).textContent())
      .toContain(`FIRING: usage ${size.name}`);
    await screenshot(page, `alerts-${size.name}`);
    // Tidy up so the other size starts from a firing-free list.
    await t.services.alerts.service.deleteRule(rule?.id ?? '');
    expect(problems).toEqual([]);
    await context.close();
  });
});
