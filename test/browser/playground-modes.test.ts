/**
 * The playground's mode switch in Chromium, at laptop and phone size: Responses mode streams a reasoning
 * model's summary into the reasoning panel and the answer below it; Images mode lists image models only
 * and shows the generated image (an OpenAI image upstream faked).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { client, register, startTestApp, type TestApp } from '../support/app.js';
import { ensureConsoleBuilt, HAVE_CHROMIUM, launch, openPage, SIZES, screenshot, signIn } from '../support/browser.js';
import { type MediaFake, startMediaFake } from '../support/fakes/media.js';

const PASSWORD = 'correct horse 1';

describe.skipIf(!HAVE_CHROMIUM)('playground modes in the browser', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let fake: MediaFake;
  const email = 'pg-modes@example.com';

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp();
    const call = client(t.url);
    const admin = await register(call, email, PASSWORD);
    await seedDemo(t.services);
    fake = await startMediaFake('openai');
    const channel = await call<{ id: string }>('POST', '/api/admin/channels', {
      token: admin.token,
      body: { name: 'pg-images', type: 'openai', baseUrl: fake.baseUrl, keys: [fake.key] },
    });
    expect(channel.status).toBe(201);
    const model = await call('POST', '/api/admin/models', {
      token: admin.token,
      body: {
        name: 'pg-dall-e',
        capabilities: ['images'],
        unitPrices: { image: 40_000 },
        routes: [{ channelId: channel.body.id, upstreamModel: 'dall-e-3' }],
      },
    });
    expect(model.status).toBe(201);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await fake?.close();
    await t?.close();
  });

  const test = (page: Page, id: string) => page.locator(`[data-test="${id}"]`);

  for (const size of SIZES) {
    it(`Responses and Images modes at ${size.name} size`, async () => {
      const { context, page, problems } = await openPage(browser, t.url, {
        viewport: { width: size.width, height: size.height },
      });
      try {
        await signIn(page, email, PASSWORD);
        await page.goto('/playground');

        // Responses: the reasoning summary streams into the panel, then the answer.
        await test(page, 'pg-mode-responses').click();
        await test(page, 'pg-model').click();
        await page.locator('.el-select-dropdown__item', { hasText: 'mock-reasoner' }).first().click();
        await test(page, 'pg-input').fill('Why is the sky blue?');
        await test(page, 'pg-send').click();
        await expect.poll(() => test(page, 'pg-answer').last().textContent(), { timeout: 15_000 }).toMatch(/\w{3,}/);
        await expect.poll(() => test(page, 'pg-usage').last().textContent(), { timeout: 15_000 }).toMatch(/\d/);
        const reasoning = test(page, 'pg-reasoning').last();
        await expect.poll(() => reasoning.textContent()).toMatch(/\w{3,}/);
        await screenshot(page, `playground-responses-${size.name}`);

        // Images: only image models are offered; the image is shown.
        await test(page, 'pg-mode-images').click();
        await test(page, 'pg-model').click();
        const options = page.locator('.el-select-dropdown__item:visible');
        await expect.poll(() => options.allTextContents()).toEqual(['pg-dall-e']);
        await options.first().click();
        await test(page, 'pg-input').fill('a sea otter');
        await test(page, 'pg-send').click();
        const image = test(page, 'pg-image').last();
        await expect
          .poll(() => image.getAttribute('src'), { timeout: 15_000 })
          .toMatch(/^data:image\/png;base64,iVBOR/);
        await expect
          .poll(() => image.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth))
          .toBe(1);
        expect(fake.last().body).toMatchObject({
          model: 'dall-e-3',
          prompt: 'a sea otter',
          response_format: 'b64_json',
        });
        await screenshot(page, `playground-images-${size.name}`);

        // The page fits the screen, and the bar keeps the model picker and its buttons on one row.
        const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
        expect(width).toBeLessThanOrEqual(size.width);
        const picker = await test(page, 'pg-model').boundingBox();
        for (const button of ['pg-clear', ...(size.name === 'phone' ? ['pg-history', 'pg-settings-toggle'] : [])]) {
          const box = await test(page, button).boundingBox();
          expect(Math.abs((box?.y ?? -100) - (picker?.y ?? 0)), `${button} beside the model picker`).toBeLessThan(8);
        }
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
