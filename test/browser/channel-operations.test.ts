import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, register, startTestApp, type TestApp } from '../support/app.js';
import {
  choose,
  ensureConsoleBuilt,
  HAVE_CHROMIUM,
  launch,
  openPage,
  SIZES,
  screenshot,
  settled,
  signIn,
} from '../support/browser.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import { start as startOpenAi } from '../support/fakes/openai.js';

const PASSWORD = 'correct horse battery';

/**
 * The channel operations of the console: select channels and tag them in bulk, filter by tag, test them all in a
 * live table, fetch a reseller's balance, copy a channel, and pre-fill a new channel's models from its upstream.
 * At desktop and phone size.
 */
describe.skipIf(!HAVE_CHROMIUM)('channel operations in the console', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let openai: FakeUpstream;
  let deepseek: FakeUpstream;
  let token: string;

  const api = async <T>(method: string, path: string, body?: unknown) =>
    (await client(t.url)<T>(method, path, { token, body })).body;
  const test = (name: string) => page.locator(`[data-test="${name}"]`);
  const row = (name: string) => test('channels-table').locator('.el-table__row', { hasText: name }).first();

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp();
    token = (await register(client(t.url), 'chops-admin@example.com', PASSWORD)).token;
    openai = await startOpenAi({ flavor: 'openai' });
    deepseek = await startOpenAi({ flavor: 'deepseek' });
    const a = await api<{ id: string }>('POST', '/api/admin/channels', {
      name: 'ui-openai',
      type: 'openai',
      baseUrl: openai.baseUrl,
      keys: [openai.key],
    });
    const b = await api<{ id: string }>('POST', '/api/admin/channels', {
      name: 'ui-deepseek',
      type: 'openai-compatible',
      baseUrl: deepseek.baseUrl,
      keys: [deepseek.key],
      options: { provider: { balanceApi: 'deepseek' } },
    });
    await api('POST', '/api/admin/channels', { name: 'ui-mock', type: 'mock' });
    await api('POST', '/api/admin/models', { name: 'ui-gpt', routes: [{ channelId: a.id, upstreamModel: 'gpt-4o' }] });
    await api('POST', '/api/admin/models', {
      name: 'ui-ds',
      routes: [{ channelId: b.id, upstreamModel: 'deepseek-chat' }],
    });
    browser = await launch();
    ({ page, problems } = await openPage(browser, t.url, { viewport: SIZES[0] }));
    await signIn(page, 'chops-admin@example.com', PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await openai?.close();
    await deepseek?.close();
    await t?.close();
  });

  it('tags selected channels in bulk and filters by the tag', async () => {
    await page.goto('/admin/channels');
    await settled(page);
    await row('ui-openai').locator('.el-checkbox').click();
    await row('ui-deepseek').locator('.el-checkbox').click();
    await test('channel-bulk-bar').waitFor();
    expect(await test('channel-bulk-bar').textContent()).toContain('2 selected');
    await test('bulk-tags').click();
    await page.keyboard.type('eu');
    await page.keyboard.press('Enter');
    await test('bulk-tag').click();
    await expect.poll(() => row('ui-openai').textContent()).toContain('#eu');
    expect(await row('ui-deepseek').textContent()).toContain('#eu');
    expect(await row('ui-mock').textContent()).not.toContain('#eu');
    await page.keyboard.press('Escape');
    await choose(page, 'channel-tag-filter', 'eu');
    await expect.poll(() => test('channels-table').locator('.el-table__body .el-table__row').count()).toBe(2);
    await screenshot(page, 'channel-ops-desktop-tagged');
  });

  it('tests the channels in a live table', async () => {
    await test('channel-test-all').click();
    const dialog = test('channel-test-all-dialog');
    await dialog.waitFor();
    await expect.poll(() => dialog.locator('[data-test="test-all-result"]').count(), { timeout: 15_000 }).toBe(2);
    const text = (await test('test-all-table').textContent()) ?? '';
    expect(text).toContain('ui-openai');
    expect(text).toContain('gpt-4o');
    expect(text).toContain('deepseek-chat');
    expect(await test('test-all-summary').textContent()).toContain('2 tested, 2 passed');
    await screenshot(page, 'channel-ops-desktop-test-all');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it("shows a reseller's balance after a refresh, and copies a channel", async () => {
    await row('ui-deepseek').locator('[data-test="channel-balance-refresh"]').click();
    await expect
      .poll(() => row('ui-deepseek').locator('[data-test="channel-balance"]').textContent())
      .toContain('110.00 CNY');
    expect(await row('ui-openai').locator('[data-test="channel-balance-refresh"]').count()).toBe(0);
    await row('ui-openai').locator('[data-test="channel-copy"]').click();
    await expect.poll(() => test('channels-table').textContent()).toContain('ui-openai (copy)');
    const copy = row('ui-openai (copy)');
    expect(await copy.locator('[data-test="channel-status"]').textContent()).toContain('Disabled');
  });

  it("pre-fills a new channel's models from its upstream", async () => {
    await page.goto('/admin/channels');
    await settled(page);
    await test('channel-create').click();
    const dialog = test('channel-dialog');
    await dialog.waitFor();
    await test('channel-name').fill('ui-new-ds');
    await choose(page, 'channel-type', 'OpenAI-compatible');
    // Element Plus puts data-test on the input itself (or its wrapper, by version).
    const input = (name: string, tag: string) =>
      page.locator(`[data-test="${name}"] ${tag}, ${tag}[data-test="${name}"]`).first();
    await input('channel-base-url', 'input').fill(deepseek.baseUrl);
    await input('channel-keys', 'textarea').fill(deepseek.key);
    await test('channel-fetch-models').click();
    await expect.poll(() => test('channel-fetched-count').textContent()).toContain('2 models');
    await choose(page, 'channel-route-models', 'deepseek-reasoner');
    await page.keyboard.press('Escape');
    await screenshot(page, 'channel-ops-desktop-fetch-models');
    await test('channel-submit').click();
    await expect.poll(() => test('channels-table').textContent(), { timeout: 10_000 }).toContain('ui-new-ds');
    const models = await api<{ data: Array<{ name: string; routes: Array<{ channelId: string }> }> }>(
      'GET',
      '/api/admin/models',
    );
    expect(models.data.find((m) => m.name === 'deepseek-reasoner')?.routes).toHaveLength(1);
  });

  it('fits a phone: the list, the bulk bar and the test table', async () => {
    await page.setViewportSize(SIZES[1]);
    await page.goto('/admin/channels');
    await settled(page);
    await row('ui-openai').locator('.el-checkbox').click();
    await test('channel-bulk-bar').waitFor();
    const width = () => page.evaluate<number>('document.documentElement.scrollWidth');
    expect(await width()).toBeLessThanOrEqual(SIZES[1].width);
    await screenshot(page, 'channel-ops-phone-list');
    await test('channel-test-all').click();
    await expect
      .poll(() => test('channel-test-all-dialog').locator('[data-test="test-all-result"]').count(), { timeout: 15_000 })
      .toBe(1);
    expect(await width()).toBeLessThanOrEqual(SIZES[1].width);
    await screenshot(page, 'channel-ops-phone-test-all');
    expect(problems).toEqual([]);
  });
});
