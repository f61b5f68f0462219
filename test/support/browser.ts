import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`[browser tests] skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WEB_DIR = join(ROOT, 'dist/web');
export const ARTIFACTS = join(ROOT, 'test-artifacts/screenshots');

/**
 * Build the console when dist/web is missing or older than web/ (CI's `npm ci` has built it already). The
 * build script builds one at a time (test files run in parallel) and swaps the result in atomically.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-if-stale.mjs'), '--console', '--quiet'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** A page that records console errors and uncaught exceptions; `problems` must stay empty. */
export async function openPage(
  browser: Browser,
  baseURL: string,
  options: { locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({
    baseURL,
    locale: options.locale ?? 'en-US',
    viewport: options.viewport ?? { width: 1366, height: 860 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return { context, page, problems };
}

/** The two sizes the console is checked at: a laptop and a phone. */
export const SIZES = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Sign in through the form (the session is the refresh cookie the page keeps). */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.locator('[data-test="submit"]').click();
  await page.waitForURL('**/dashboard');
}

/** Wait until a page has drawn its data (no loading mask left). */
export async function settled(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page
    .locator('.el-loading-mask:visible')
    .first()
    .waitFor({ state: 'detached', timeout: 10_000 })
    .catch(() => {});
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.waitForTimeout(700); // let charts finish their entry animation
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Pick an option of an Element Plus select (the select is found by its data-test). */
export async function choose(page: Page, selectTest: string, option: string): Promise<void> {
  await page.locator(`[data-test="${selectTest}"]`).first().click();
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click();
}
