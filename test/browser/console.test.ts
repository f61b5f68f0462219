import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { choose, ensureConsoleBuilt, HAVE_CHROMIUM, launch, openPage, screenshot } from '../support/browser.js';

const PASSWORD = 'correct horse battery';

/**
 * A newcomer's path through the console in a real Chromium: register (first account = admin), create and
 * copy a key, chat in the playground, add a channel and a model as admin, find the request in logs and on
 * the dashboards, switch languages. Screenshots of each main page go to test-artifacts/screenshots.
 */
describe.skipIf(!HAVE_CHROMIUM)('web console in Chromium', { timeout: 60_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let secret = '';

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp();
    await seedDemo(t.services);
    browser = await launch();
    ({ page, problems } = await openPage(browser, t.url));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const test = (name: string) => page.locator(`[data-test="${name}"]`);

  it('sends a visitor to sign-in, and registers the first account as admin', async () => {
    await page.goto('/');
    await page.waitForURL(/\/login/);
    // A brand-new instance invites the first visitor to create the admin account.
    await expect.poll(() => page.locator('[data-test="first-admin"]').textContent()).toContain('administrator');
    await screenshot(page, '01-login');
    await page.getByRole('link', { name: 'Create account' }).first().click();
    await page.waitForURL('**/register');
    await page.getByLabel('Email').fill('admin@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await test('submit').click();
    await page.waitForURL('**/dashboard');
    await expect.poll(() => page.locator('nav').textContent()).toContain('Channels'); // admin menu
    await screenshot(page, '02-dashboard-empty');
  });

  it('shows form errors in words', async () => {
    const other = await openPage(browser, t.url);
    await other.page.goto('/login');
    await other.page.getByLabel('Email').fill('admin@example.com');
    await other.page.getByLabel('Password').fill('wrong password');
    await other.page.locator('[data-test="submit"]').click();
    await expect.poll(() => other.page.locator('[data-test="auth-error"]').textContent()).toMatch(/incorrect|invalid/i);
    await other.context.close();
  });

  it('creates an API key, shows its secret once and copies it', async () => {
    await page.goto('/keys');
    await test('key-create').click();
    await test('key-name').fill('laptop');
    // The limit fields are the shared limits editor; a budget set here is sent with the key.
    for (const [field, value] of [
      ['key-budget', '25'],
      ['key-rpm', '60'],
    ] as const) {
      await test(field).locator('input').fill(value);
      await test(field).locator('input').blur();
    }
    await screenshot(page, '03-key-form');
    await test('key-submit').click();
    await expect.poll(() => test('key-secret').textContent()).toMatch(/^\s*sk-/);
    secret = ((await test('key-secret').textContent()) ?? '').trim();
    await screenshot(page, '03-key-secret');
    await test('key-copy').click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await test('key-secret-done').click();
    await expect.poll(() => test('keys-table').textContent()).toContain('laptop');
    await expect.poll(() => test('keys-table').textContent()).toContain('60 rpm');
    expect(await page.content()).not.toContain(secret); // the list shows a hint, never the secret
    // The copied key works on the API.
    const res = await fetch(`${t.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(200);
    await screenshot(page, '04-keys');
  });

  it('chats in the playground and streams the reasoning and the answer', async () => {
    await page.goto('/playground');
    await choose(page, 'pg-model', 'mock-reasoner');
    await test('pg-input').fill('Why is the sky blue?');
    await test('pg-send').click();
    await expect.poll(() => test('pg-answer').last().textContent(), { timeout: 15_000 }).toMatch(/\w{3,}/);
    await expect.poll(() => test('pg-usage').last().textContent(), { timeout: 15_000 }).toMatch(/\d/);
    // The reasoning panel streamed the model's thinking (it folds away once the answer starts).
    const reasoning = test('pg-reasoning').last();
    await expect.poll(() => reasoning.textContent()).toMatch(/\w{3,}/);
    if (!(await reasoning.isVisible())) await test('pg-reasoning-toggle').last().click();
    await expect.poll(() => reasoning.isVisible()).toBe(true);
    await screenshot(page, '05-playground');
    // The conversation is kept in the browser across a reload.
    await page.reload();
    await expect.poll(() => test('pg-answer').count()).toBeGreaterThan(0);
  });

  it('lets the admin add a channel and a model that routes to it', async () => {
    // The channel form is generated from the server's provider declarations.
    const declared = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/providers');
    await page.goto('/admin/channels');
    const declarations = await declared;
    expect(declarations.status(), 'GET /api/admin/providers').toBe(200);
    const { data } = (await declarations.json()) as { data: Array<{ id: string }> };
    expect(data.map((p) => p.id)).toContain('mock');
    await test('channel-create').click();
    await test('channel-name').fill('Second mock');
    // The form follows the chosen type's declaration: a default base URL, or a required one with options.
    const baseUrl = page.locator('[data-test="channel-base-url"] input, input[data-test="channel-base-url"]').first();
    expect(await baseUrl.getAttribute('placeholder')).toBe('https://api.openai.com/v1');
    await choose(page, 'channel-type', 'Azure OpenAI');
    await expect.poll(() => test('channel-dialog').textContent()).toContain('API version');
    await test('channel-submit').click();
    // The form validates its fields one by one, so each message may show up a moment after the other.
    await expect.poll(() => test('channel-dialog').textContent()).toContain('This provider type needs a base URL');
    await expect
      .poll(() => test('channel-dialog').textContent())
      .toContain('This provider type needs at least one key');
    await choose(page, 'channel-type', 'mock');
    expect(await test('channel-base-url').count()).toBe(0);
    expect(await test('channel-keys').count()).toBe(0);
    await test('channel-submit').click();
    await expect.poll(() => test('channels-table').textContent()).toContain('Second mock');
    await screenshot(page, '06-channels');

    await page.goto('/admin/models');
    await test('model-create').click();
    await test('model-name').fill('team-model');
    await choose(page, 'model-channels', 'Second mock');
    // Per-unit prices: one per image, and one for a size/quality.
    await page.locator('[data-test="model-image-price"] input').fill('0.04');
    await test('model-image-variant-add').click();
    // (el-input puts data-test on its <input>; el-input-number on its wrapper.)
    const variantInput = page.locator('input[data-test="model-image-variant"]');
    await variantInput.fill('1024x1024/hd');
    await page.locator('[data-test="model-image-variant-price"] input').fill('0.08');
    const created = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/admin/models' && r.request().method() === 'POST',
    );
    // A batch discount: percent off for lines of /v1/batches, shown beside the prices.
    await page.locator('[data-test="model-batch-discount"] input').fill('25');
    await test('model-submit').click();
    const saved = await created;
    expect(saved.status(), await saved.text()).toBe(201);
    expect(((await saved.json()) as { unitPrices: unknown }).unitPrices).toEqual({
      image: 40_000,
      images: { '1024x1024/hd': 80_000 },
    });
    await expect.poll(() => test('models-table').textContent()).toContain('team-model');
    await expect.poll(() => test('model-batch-discount-cell').textContent()).toContain('25 %');
    expect(await test('model-unit-prices').first().textContent()).toMatch(
      /Image\s*\$0\.04.*Image 1024x1024\/hd\s*\$0\.08/s,
    );
    // Kept: stored with the model, and read back by the list into the edit form.
    const stored = await t.database.handle.db
      .selectFrom('models')
      .select('unit_prices')
      .where('name', '=', 'team-model')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(stored.unit_prices ?? 'null')).toEqual({ image: 40_000, images: { '1024x1024/hd': 80_000 } });
    const row = test('models-table').locator('tr', { hasText: 'team-model' });
    await row.locator('[data-test="model-edit"]').click();
    await expect.poll(() => page.locator('[data-test="model-image-price"] input').inputValue()).toBe('0.040000');
    expect(await variantInput.inputValue()).toBe('1024x1024/hd');
    await screenshot(page, '07b-model-unit-prices');
    await page.keyboard.press('Escape');
    await expect.poll(() => test('model-dialog').isVisible()).toBe(false);
    await screenshot(page, '07-models');

    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'team-model', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it('shows the requests in the logs and on the dashboards', async () => {
    await page.goto('/admin/logs');
    await expect.poll(() => test('logs-table').textContent(), { timeout: 10_000 }).toContain('team-model');
    await screenshot(page, '08-admin-logs');
    // Export: a job on the server (workers on for this step), followed by the page, then the file downloads.
    await t.services.jobs.start({ workers: true });
    try {
      await choose(page, 'logs-model', 'team-model');
      await expect.poll(() => test('logs-table').textContent()).not.toContain('mock-reasoner');
      const [file] = await Promise.all([
        page.waitForEvent('download', { timeout: 30_000 }),
        test('logs-export').click(),
      ]);
      const csv = (await readFile((await file.path()) as string, 'utf8')).trimEnd().split('\n');
      expect(csv[0]).toContain('model');
      expect(csv.length).toBeGreaterThan(1);
      for (const line of csv.slice(1)) expect(line).toContain('team-model');
      const exports = await t.database.handle.db
        .selectFrom('jobs')
        .select('type')
        .where('type', '=', 'logs.export')
        .execute();
      expect(exports.length).toBe(1);
    } finally {
      await t.services.jobs.stop(1_000);
    }
    await page.goto('/admin/logs');
    await page.goto('/admin/overview');
    await expect.poll(() => test('ov-requests-today').textContent(), { timeout: 10_000 }).toMatch(/[1-9]/);
    await screenshot(page, '09-overview');
    // Plain HTTP here: no certificate card. With ACME (its API is tested against Pebble in test/http/acme.test.ts)
    // the card shows the names, the expiry and a failed renewal: the status is served as the API would.
    expect(await test('ov-tls').count()).toBe(0);
    const notAfter = Date.now() + 20 * 86_400_000;
    await page.route('**/api/admin/tls', (route) =>
      route.fulfill({
        json: {
          source: 'acme',
          domains: ['hub.example.com'],
          directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
          issuer: 'R11',
          notBefore: notAfter - 90 * 86_400_000,
          notAfter,
          renewedAt: notAfter - 90 * 86_400_000,
          renewAfter: notAfter - 30 * 86_400_000,
          lastAttemptAt: Date.now(),
          lastError: 'Invalid response from http://hub.example.com/.well-known/acme-challenge/x: 404',
          failures: 2,
          renewing: false,
        },
      }),
    );
    await page.reload();
    await expect.poll(() => test('ov-tls').textContent(), { timeout: 10_000 }).toContain('hub.example.com');
    expect(await test('ov-tls').textContent()).toMatch(/19 days left|20 days left/);
    expect(await test('ov-tls-error').textContent()).toContain('(2 in a row)');
    await test('ov-tls').scrollIntoViewIfNeeded();
    await screenshot(page, '09b-overview-tls');
    await page.unroute('**/api/admin/tls');
    await page.goto('/dashboard');
    await expect.poll(() => test('dash-requests-today').textContent(), { timeout: 10_000 }).toMatch(/[1-9]/);
    await screenshot(page, '10-dashboard');
    await page.goto('/logs');
    await expect.poll(() => test('logs-table').textContent(), { timeout: 10_000 }).toContain('mock-reasoner');
    await screenshot(page, '11-my-logs');
  });

  it('keeps request and response bodies when the settings say so, and shows them in the logs', async () => {
    const login = await fetch(`${t.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const admin = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };

    // The setting is a choice in the "Logs" group; bodies are off until an admin turns them on.
    await page.goto('/admin/settings');
    await test('settings-log-bodies').waitFor();
    await test('settings-group-logs').scrollIntoViewIfNeeded();
    await test('settings-log-bodies-all').click();
    await expect.poll(() => test('settings-unsaved').textContent()).toContain('(1)');
    await screenshot(page, '16-settings-logs');
    await test('settings-save').click();
    await test('settings-saved').waitFor();
    const settings = await fetch(`${t.url}/api/admin/settings`, { headers: admin });
    expect(((await settings.json()) as { logBodies: string }).logBodies).toBe('all');

    const question = 'Which lighthouse is the tallest?';
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'team-model', messages: [{ role: 'user', content: question }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const requestId = res.headers.get('x-request-id') ?? '';
    expect(requestId).not.toBe('');
    // The log is written after the answer: wait until it is there, with its bodies.
    await expect
      .poll(
        async () => {
          const detail = await fetch(`${t.url}/api/admin/logs/${requestId}`, { headers: admin });
          return detail.ok ? ((await detail.json()) as { hasBodies: boolean }).hasBodies : false;
        },
        { timeout: 10_000 },
      )
      .toBe(true);

    // Newest first: the request just sent is the first row; expanding it loads its bodies.
    for (const path of ['/admin/logs', '/logs']) {
      await page.goto(path);
      const first = test('logs-table').locator('.el-table__body-wrapper tr.el-table__row').first();
      await expect.poll(() => first.textContent(), { timeout: 10_000 }).toContain('team-model');
      await first.locator('.el-table__expand-icon').click();
      await expect.poll(() => test('logs-table').textContent()).toContain(requestId);
      await test('log-bodies').waitFor();
      await expect.poll(() => test('log-request-body').textContent(), { timeout: 10_000 }).toContain(question);
      await expect
        .poll(() => test('log-response-body').textContent())
        .toContain(`This is a mock response to: ${question}`);
      // JSON is pretty-printed.
      expect(await test('log-request-body').textContent()).toContain('\n  "messages": [');
    }
    await test('log-request-body-copy').click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toContain(question);
    await test('log-bodies').scrollIntoViewIfNeeded();
    await screenshot(page, '11-my-logs-bodies');

    // Back to the default, so later requests keep no bodies.
    const off = await fetch(`${t.url}/api/admin/settings`, {
      method: 'PATCH',
      headers: admin,
      body: JSON.stringify({ logBodies: 'off' }),
    });
    expect(off.status).toBe(200);
    expect(((await off.json()) as { logBodies: string }).logBodies).toBe('off');
  });

  it('renders the remaining admin pages', async () => {
    for (const [path, marker, shot] of [
      ['/admin/users', 'users-table', '12-users'],
      ['/admin/keys', 'keys-table', '13-admin-keys'],
      ['/admin/ip-rules', 'iprules-table', '14-ip-rules'],
      ['/admin/audit', 'audit-table', '15-audit'],
      ['/admin/settings', 'settings-save', '16-settings'],
    ] as const) {
      await page.goto(path);
      await page
        .locator(`[data-test="${marker}"]`)
        .first()
        .waitFor({ state: 'attached', timeout: 10_000 })
        .catch((error: Error) => {
          throw new Error(`${path}: no ${marker} (${error.message.split('\n')[0]})`);
        });
      await page
        .locator('.el-loading-mask:visible')
        .first()
        .waitFor({ state: 'detached', timeout: 10_000 })
        .catch(() => {});
      await screenshot(page, shot);
    }
    // The admin keys page searches on the server, by name, hint, id or owner.
    await page.goto('/admin/keys');
    await test('keys-search').fill('no-such-key');
    await expect.poll(() => test('keys-table').textContent(), { timeout: 10_000 }).not.toContain('laptop');
    await test('keys-search').fill('admin@EXAMPLE');
    await expect.poll(() => test('keys-table').textContent(), { timeout: 10_000 }).toContain('laptop');
    // The settings page is drawn from a list of fields: the default limits are further down.
    await page.goto('/admin/settings');
    await test('settings-key-limits').waitFor();
    await test('settings-group-limits').scrollIntoViewIfNeeded();
    await screenshot(page, '16-settings-limits');
    // The audit log has the channel the admin added.
    await page.goto('/admin/audit');
    await expect.poll(() => test('audit-table').textContent(), { timeout: 10_000 }).toContain('channel.create');
  });

  it('switches to Chinese and back to English, and remembers the choice', async () => {
    await page.goto('/dashboard');
    await choose(page, 'locale-select', '简体中文');
    await expect.poll(() => page.locator('nav').textContent()).toContain('仪表盘');
    await screenshot(page, '17-dashboard-zh');
    await page.reload();
    await expect.poll(() => page.locator('nav').textContent()).toContain('仪表盘');
    await choose(page, 'locale-select', 'English');
    await expect.poll(() => page.locator('nav').textContent()).toContain('Dashboard');
  });

  it('keeps a signed-in user across a reload, and keeps non-admins out of admin pages', async () => {
    await page.reload();
    await page.waitForURL('**/dashboard');
    const other = await openPage(browser, t.url);
    await other.page.goto('/register');
    await other.page.getByLabel('Email').fill('dev@example.com');
    await other.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await other.page.getByLabel('Repeat password').fill(PASSWORD);
    await other.page.locator('[data-test="submit"]').click();
    await other.page.waitForURL('**/dashboard');
    expect(await other.page.locator('nav').textContent()).not.toContain('Channels');
    await other.page.goto('/admin/users');
    await other.page.waitForURL('**/dashboard');
    await screenshot(other.page, '18-non-admin-dashboard');
    expect(other.problems).toEqual([]);
    await other.context.close();
  });

  it('sorts the admin users table on the server, by a column header', async () => {
    await page.goto('/admin/users');
    const emails = () => page.locator('[data-test="users-table"] .email').allTextContents();
    await expect.poll(async () => (await emails()).length, { timeout: 10_000 }).toBeGreaterThan(1);
    const header = page.locator('[data-test="users-table"] th').filter({ hasText: 'Email' });
    await header.click();
    await expect
      .poll(
        async () => {
          const e = await emails();
          return e.join() === [...e].sort().join() && e.length > 1;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    const ascending = await emails();
    await header.click();
    await expect.poll(emails, { timeout: 10_000 }).toEqual([...ascending].reverse());
    await screenshot(page, '12-users-sorted');
  });

  it('works on a phone-sized screen', async () => {
    const phone = await openPage(browser, t.url, { viewport: { width: 390, height: 844 } });
    await phone.page.goto('/login');
    await phone.page.getByLabel('Email').fill('admin@example.com');
    await phone.page.getByLabel('Password').fill(PASSWORD);
    await phone.page.locator('[data-test="submit"]').click();
    await phone.page.waitForURL('**/dashboard');
    await screenshot(phone.page, '19-phone-dashboard');
    await phone.page.goto('/playground');
    await screenshot(phone.page, '20-phone-playground');
    expect(phone.problems).toEqual([]);
    await phone.context.close();
  });

  it('runs the user, limits and IP rule dialogs: validation, saving, editing', async () => {
    const input = (name: string) => page.locator(`[data-test="${name}"] input, input[data-test="${name}"]`).first();
    await page.goto('/admin/users');
    await test('users-table').waitFor();
    await test('user-create').click();
    await test('user-create-submit').click();
    await expect.poll(() => test('user-create-dialog').textContent()).toContain('This field is required');
    await input('user-create-email').fill('dialog@example.com');
    await input('user-create-password').fill(PASSWORD);
    await test('user-create-submit').click();
    await expect.poll(() => test('user-create-dialog').isVisible()).toBe(false);
    const row = page.locator('[data-test="users-table"] .el-table__body tr', { hasText: 'dialog@example.com' }).first();
    await row.waitFor({ timeout: 10_000 });

    await row.locator('[data-test="user-more"]').click();
    await page.locator('[data-test="user-edit"]:visible').click();
    await input('user-edit-name').fill('Dialog User');
    await test('user-edit-submit').click();
    await expect.poll(() => test('users-table').textContent(), { timeout: 10_000 }).toContain('Dialog User');

    await row.locator('[data-test="user-limits"]').click();
    // Element Plus marks number inputs aria-disabled while they are editable: force past Playwright's check.
    await input('user-limits-rpm').fill('60', { force: true });
    await test('limits-save').click();
    await expect.poll(() => test('user-limits-dialog').isVisible()).toBe(false);
    await row.locator('[data-test="user-limits"]').click();
    await expect.poll(() => input('user-limits-rpm').inputValue(), { timeout: 10_000 }).toBe('60');
    await page.keyboard.press('Escape');

    await page.goto('/admin/ip-rules');
    await test('iprules-table').waitFor();
    await test('iprule-create').click();
    await input('iprule-cidr').fill('not-an-ip');
    await test('iprule-submit').click();
    await expect.poll(() => test('iprule-dialog').textContent()).toContain('Not an IP address or CIDR range');
    await input('iprule-cidr').fill('203.0.113.0/24');
    await test('iprule-submit').click();
    await expect.poll(() => test('iprules-table').textContent(), { timeout: 10_000 }).toContain('203.0.113.0/24');
    const rule = page.locator('[data-test="iprules-table"] .el-table__body tr', { hasText: '203.0.113.0/24' }).first();
    await rule.locator('[data-test="iprule-edit"]').click();
    await input('iprule-note').fill('documentation range');
    await test('iprule-submit').click();
    await expect.poll(() => test('iprules-table').textContent(), { timeout: 10_000 }).toContain('documentation range');
  });

  it('had no console errors on the way', () => {
    expect(problems).toEqual([]);
  });
});
