import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/types.js';
import { client, register, startTestApp, type TestApp } from '../support/app.js';
import { choose, ensureConsoleBuilt, HAVE_CHROMIUM, launch, openPage, screenshot, signIn } from '../support/browser.js';

const PASSWORD = 'correct horse battery';

/**
 * The admin's Jobs page: a running job's progress bar moves without reloading, it is cancelled from the page, a
 * failed (dead-lettered) job is retried, the state filter narrows the list, and the schedules tab disables the
 * hourly request-log purge. In Chinese too.
 */
describe.skipIf(!HAVE_CHROMIUM)('the Jobs page of the console', { timeout: 90_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  /** Set by the test: the progress the long job reports next. */
  let nextProgress: ((percent: number) => void) | undefined;
  let failing = true;
  let running: JobRecord;
  let broken: JobRecord;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp({ env: { AIHUB_JOBS_POLL_MS: '50' } });
    const call = client(t.url);
    await register(call, 'jobs-admin@example.com', PASSWORD);
    const { jobs } = t.services;
    jobs.define({
      type: 'test.export',
      handler: async ({ progress, signal }) => {
        await progress(30, 'rows 300 of 1000');
        nextProgress = (percent) => void progress(percent, `rows ${percent * 10} of 1000`);
        await new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }),
        );
      },
    });
    jobs.define({
      type: 'test.fragile',
      attempts: 1,
      handler: async () => {
        if (failing) throw new Error('disk full');
        return 'written';
      },
    });
    await jobs.start();
    const org = (await t.services.users.findByEmail('jobs-admin@example.com'))?.org_id ?? 'org_default';
    running = await jobs.enqueue('test.export', null, { orgId: org });
    broken = await jobs.enqueue('test.fragile', null, { orgId: org });
    browser = await launch();
    ({ page, problems } = await openPage(browser, t.url));
    await signIn(page, 'jobs-admin@example.com', PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await t?.services.jobs.stop(0);
    await browser?.close();
    await t?.close();
  });

  const test = (name: string) => page.locator(`[data-test="${name}"]`);

  it('shows live progress, and cancels a running job', async () => {
    await page.goto('/admin/jobs');
    await expect.poll(() => test(`job-message-${running.id}`).textContent()).toContain('rows 300 of 1000');
    await expect.poll(() => test(`job-progress-${running.id}`).textContent()).toContain('30%');
    // The page polls: the bar moves without a reload.
    nextProgress?.(60);
    await expect.poll(() => test(`job-progress-${running.id}`).textContent(), { timeout: 8_000 }).toContain('60%');
    await expect.poll(() => test(`job-state-${running.id}`).textContent()).toContain('Running');
    await screenshot(page, 'jobs-running');
    await test(`job-cancel-${running.id}`).click();
    await expect.poll(() => test(`job-state-${running.id}`).textContent(), { timeout: 8_000 }).toContain('Cancelled');
    expect((await t.services.jobs.get(running.id))?.state).toBe('cancelled');
  });

  it('filters by state and retries a failed job', async () => {
    await expect.poll(() => test(`job-state-${broken.id}`).textContent()).toContain('Failed');
    await expect.poll(() => test(`job-error-${broken.id}`).textContent()).toContain('disk full');
    await test('jobs-filter-state').click();
    await test('jobs-state-failed').click();
    await expect.poll(() => test(`job-state-${running.id}`).count()).toBe(0);
    await expect.poll(() => test(`job-state-${broken.id}`).count()).toBe(1);
    failing = false;
    await test(`job-retry-${broken.id}`).click();
    await expect.poll(async () => (await t.services.jobs.get(broken.id))?.state).toBe('succeeded');
    // Still filtered to failed: the succeeded job leaves the list.
    await expect.poll(() => test(`job-state-${broken.id}`).count(), { timeout: 8_000 }).toBe(0);
  });

  it('disables a schedule from the schedules tab', async () => {
    await page.getByRole('tab', { name: 'Schedules' }).click();
    const toggle = test('schedule-enabled-usage.purge-logs.hourly');
    await expect.poll(() => toggle.getAttribute('class')).toContain('is-checked');
    await toggle.click();
    await expect
      .poll(async () => (await t.services.jobs.schedules()).find((s) => s.name === 'usage.purge-logs.hourly')?.enabled)
      .toBe(false);
    await expect.poll(() => test('schedule-next-usage.purge-logs.hourly').textContent()).toBe('—');
    await screenshot(page, 'jobs-schedules');
    expect(problems).toEqual([]);
  });

  it('speaks Chinese', async () => {
    await page.goto('/admin/jobs');
    await choose(page, 'locale-select', '简体中文');
    await expect.poll(() => test(`job-state-${running.id}`).textContent()).toContain('已取消');
    await expect.poll(() => page.getByRole('tab', { name: '定时计划' }).count()).toBe(1);
    await choose(page, 'locale-select', 'English');
  });
});
