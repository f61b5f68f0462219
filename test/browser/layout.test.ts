import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
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
const DESKTOP = SIZES[0];
const PHONE = SIZES[1];

/** Pages with a list, the data-test of their table, and whether its last column is pinned actions. */
const LIST_PAGES = [
  ['/keys', 'keys-table', 'keys'],
  ['/logs', 'logs-table', 'my-logs'],
  ['/admin/channels', 'channels-table', 'channels'],
  ['/admin/models', 'models-table', 'models'],
  ['/admin/users', 'users-table', 'users'],
  ['/admin/keys', 'keys-table', 'admin-keys'],
  ['/admin/logs', 'logs-table', 'admin-logs'],
  ['/admin/ip-rules', 'iprules-table', 'ip-rules'],
  ['/admin/audit', 'audit-table', 'audit'],
  ['/org/members', 'members-table', 'org-members'],
  ['/org/teams', 'teams-table', 'org-teams'],
  ['/org/invitations', 'invitations-table', 'org-invitations'],
  ['/admin/organizations', 'orgs-table', 'organizations'],
  ['/org/sso', 'sso-table', 'org-sso'],
  ['/admin/sso', 'sso-table', 'admin-sso'],
] as const;
const OTHER_PAGES = [
  ['/dashboard', 'dashboard'],
  ['/admin/overview', 'overview'],
  ['/admin/settings', 'settings'],
  ['/profile', 'profile'],
  ['/org/settings', 'org-settings'],
  ['/org/roles', 'org-roles'],
  ['/security', 'security'],
] as const;

/** The breadcrumb of a page: its area's name and where it leads (for the admin, who may open everything). */
function areaOf(path: string): [string, string] {
  if (path.startsWith('/admin/')) return ['Administration', '/admin/overview'];
  if (path.startsWith('/org/')) return ['Organization', '/org/settings'];
  return ['Developer', '/dashboard'];
}

// The checks below run in the page (as source text: this project's TypeScript has no DOM types).

/** Elements outside the menus whose whole text is the page title (it should be shown once). */
function titleCount(page: Page): Promise<{ title: string; count: number }> {
  return page.evaluate(`(() => {
    const title = document.title.split(' · ')[0] ?? '';
    const count = [...document.querySelectorAll('body *')].filter(
      (el) =>
        el.children.length === 0 &&
        el.textContent?.trim() === title &&
        el.checkVisibility() &&
        !el.closest('nav, .el-menu, .el-drawer, .el-select-dropdown, .el-tooltip__popper, [role="tab"]'),
    ).length;
    return { title, count };
  })()`);
}

/** Nothing is wider than the screen: neither the document nor the scrolling main area. */
function overflow(page: Page): Promise<{ document: number; main: number; viewport: number }> {
  return page.evaluate(`(() => {
    const main = document.querySelector('.el-main');
    return {
      document: document.documentElement.scrollWidth,
      main: main ? main.scrollWidth - main.clientWidth : 0,
      viewport: window.innerWidth,
    };
  })()`);
}

/** How far (px) a pinned "Actions" header cell covers the column before it (0 when it does not). */
function pinnedOverlap(page: Page, table: string): Promise<number> {
  return page.evaluate(`(() => {
    const pinned = document.querySelector('[data-test="${table}"] th.el-table-fixed-column--right');
    const before = pinned?.previousElementSibling;
    if (!pinned || !before) return 0;
    return Math.max(0, before.getBoundingClientRect().right - pinned.getBoundingClientRect().left);
  })()`);
}

/** Whether a table (or a table in it) scrolls sideways. */
function scrollsSideways(page: Page, table: string): Promise<boolean> {
  return page.evaluate(
    `[...document.querySelectorAll('[data-test="${table}"] .el-scrollbar__wrap')].some((el) => el.scrollWidth > el.clientWidth + 1)`,
  );
}

/** Right edges of the visible buttons in a table's rows. */
function buttonEdges(page: Page, table: string): Promise<number[]> {
  return page.evaluate(
    `[...document.querySelectorAll('[data-test="${table}"] .el-table__body button')].filter((el) => el.checkVisibility()).map((el) => el.getBoundingClientRect().right)`,
  );
}

/** Width of an input's placeholder text, and the room the input has for it. */
function placeholderFit(page: Page, selector: string): Promise<{ text: number; room: number }> {
  return page.evaluate(`(() => {
    const el = document.querySelector('${selector}');
    const style = getComputedStyle(el);
    const context = document.createElement('canvas').getContext('2d');
    context.font = style.fontWeight + ' ' + style.fontSize + ' ' + style.fontFamily;
    return {
      text: context.measureText(el.placeholder).width,
      room: el.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight),
    };
  })()`);
}

/**
 * The console's layout and wording at a laptop (1440×900) and a phone (390×844) size: titles, tables
 * that fit (card lists on phones), one number format, plurals, snippets for a new key, a getting-started
 * panel for a new user, names in the audit log. Screenshots of every page at both sizes go to
 * test-artifacts/screenshots (kept by CI).
 */
describe.skipIf(!HAVE_CHROMIUM)('console layout at laptop and phone sizes', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let admin: Page;
  let newbie: Page;
  let problems: string[][] = [];
  let tokensToday = 0;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp();
    await seedDemo(t.services);
    browser = await launch();
    const tokens: string[] = [];
    for (const email of ['admin@example.com', 'new@example.com']) {
      const res = await fetch(`${t.url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(res.status).toBe(201); // the first account is the admin
      tokens.push(((await res.json()) as { accessToken: string }).accessToken);
    }
    // A row for the IP rules page (a documentation range: it blocks nobody here).
    const rule = await fetch(`${t.url}/api/admin/ip-rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'v1', action: 'deny', cidr: '203.0.113.0/24', note: 'documentation range' }),
    });
    expect(rule.status).toBe(201);
    // A row for the invitations page.
    const invitation = await fetch(`${t.url}/api/org/invitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'invited@example.com', role: 'developer' }),
    });
    expect(invitation.status).toBe(201);
    // A row for the teams page.
    const team = await fetch(`${t.url}/api/org/teams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Research', description: 'Models and evaluations' }),
    });
    expect(team.status).toBe(201);
    // A row for each SSO page (creating a connection does not contact its IdP).
    for (const path of ['/api/org/sso', '/api/admin/sso']) {
      const sso = await fetch(`${t.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Example Identity Provider',
          issuer: 'https://idp.example.com/realms/acme',
          clientId: 'aihub',
          emailDomains: ['example.com'],
        }),
      });
      expect(sso.status).toBe(201);
    }
    const a = await openPage(browser, t.url, { viewport: DESKTOP });
    const n = await openPage(browser, t.url, { viewport: DESKTOP });
    admin = a.page;
    newbie = n.page;
    problems = [a.problems, n.problems];
    await signIn(admin, 'admin@example.com', PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("colours links with the theme, not the browser's default blue", async () => {
    await newbie.goto('/login');
    const link = newbie.getByRole('link', { name: 'Create account' });
    await link.waitFor();
    const colour = await newbie.evaluate(`getComputedStyle(document.querySelector('a[href="/register"]')).color`);
    expect(colour).not.toBe('rgb(0, 0, 238)');
    await signIn(newbie, 'new@example.com', PASSWORD);
  });

  it('greets a user without requests with a getting-started panel instead of empty charts', async () => {
    for (const size of SIZES) {
      await newbie.setViewportSize(size);
      await newbie.goto('/dashboard');
      await settled(newbie);
      const panel = newbie.locator('[data-test="getting-started"]');
      await panel.waitFor({ timeout: 10_000 });
      expect(await newbie.locator('[data-test="dash-trend-chart"]').count()).toBe(0);
      expect(await panel.locator('[data-test="start-keys"]').isVisible()).toBe(true);
      expect(await panel.locator('[data-test="start-playground"]').getAttribute('href')).toBe('/playground');
      const curl = (await panel.locator('[data-test="snippet-curl"]').textContent()) ?? '';
      expect(curl).toContain(`${t.url}/v1/chat/completions`);
      expect((await overflow(newbie)).document).toBeLessThanOrEqual(size.width);
      await screenshot(newbie, `layout-${size.name}-dashboard-new-user`);
    }
  });

  it('shows a new key with both base URLs and curl, Python and JavaScript snippets', async () => {
    await admin.goto('/keys');
    await admin.locator('[data-test="key-create"]').click();
    await admin.locator('[data-test="key-name"]').fill('laptop');
    await admin.locator('[data-test="key-submit"]').click();
    const dialog = admin.locator('[data-test="key-secret-dialog"]');
    await expect.poll(() => admin.locator('[data-test="key-secret"]').textContent()).toMatch(/^\s*sk-/);
    const secret = ((await admin.locator('[data-test="key-secret"]').textContent()) ?? '').trim();
    // OpenAI SDKs want /v1 in the base URL; the Anthropic SDK adds /v1/messages itself.
    expect(await dialog.locator('[data-test="base-url-openai"]').textContent()).toBe(`${t.url}/v1`);
    expect(await dialog.locator('[data-test="base-url-anthropic"]').textContent()).toBe(t.url);
    for (const [tab, marker] of [
      ['curl', 'curl '],
      ['Python', 'from openai import OpenAI'],
      ['JavaScript', "import OpenAI from 'openai'"],
    ] as const) {
      await dialog.getByRole('tab', { name: tab, exact: true }).click();
      const code = dialog.locator('[data-test^="snippet-"]:visible').first();
      await expect.poll(() => code.textContent()).toContain(marker);
      const text = (await code.textContent()) ?? '';
      expect(text).toContain(secret);
      expect(text).toContain(`${t.url}/v1`);
    }
    await screenshot(admin, `layout-${DESKTOP.name}-key-secret`);
    await admin.setViewportSize(PHONE);
    await screenshot(admin, `layout-${PHONE.name}-key-secret`);
    await admin.setViewportSize(DESKTOP);
    await admin.locator('[data-test="key-secret-done"]').click();

    // Traffic for the pages below: three answers and one error, today.
    for (const model of ['mock-gpt', 'mock-gpt', 'mock-gpt', 'no-such-model']) {
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello '.repeat(300) }] }),
      });
      if (res.ok) tokensToday += ((await res.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
    }
    expect(tokensToday).toBeGreaterThanOrEqual(1000); // four digits: where compact and plain formats differ
    expect(tokensToday).toBeLessThan(10_000);
    await expect
      .poll(
        async () => {
          const logs = await t.services.database.db.selectFrom('request_logs').select('id').execute();
          return logs.length;
        },
        { timeout: 10_000 },
      )
      .toBe(4);
  });

  it('formats counts one way everywhere, says "1 error", and draws no bar for an unlimited budget', async () => {
    const expected = new Intl.NumberFormat('en').format(tokensToday); // e.g. "2,076", never "2.1K" next to it
    await admin.goto('/admin/overview');
    const tokens = admin.locator('[data-test="ov-tokens-today"]');
    await expect.poll(() => tokens.textContent(), { timeout: 10_000 }).toMatch(/\d/);
    expect((await tokens.textContent())?.trim()).toBe(expected);
    const requests = admin.locator('.stat-card').filter({ has: admin.locator('[data-test="ov-requests-today"]') });
    expect(await requests.textContent()).toContain('1 error (');
    expect(await requests.textContent()).not.toContain('1 errors');

    await admin.goto('/dashboard');
    await settled(admin);
    await expect.poll(() => admin.locator('[data-test="dash-tokens-today"]').textContent()).toContain(expected);
    const budget = admin.locator('[data-test="dash-budget"]');
    expect(await budget.textContent()).toContain('Unlimited');
    expect(await budget.locator('.el-progress').count()).toBe(0);
    expect(await admin.locator('[data-test="getting-started"]').count()).toBe(0); // not new any more
  });

  it('names the keys, users and channels in the audit log instead of showing ids', async () => {
    await admin.goto('/admin/audit');
    const targets = admin.locator('[data-test="audit-target"]');
    await expect
      .poll(() => targets.allTextContents(), { timeout: 10_000 })
      .toContainEqual(expect.stringContaining('laptop'));
    for (const text of await targets.allTextContents()) expect(text.trim()).not.toMatch(/^(key|usr|ch|mdl)_/);
    const actors = await admin.locator('[data-test="audit-table"]').textContent();
    expect(actors).toContain('admin@example.com');
  });

  for (const size of SIZES) {
    it(`fits every page on a ${size.name} (${size.width}×${size.height}), with the title once`, {
      timeout: 240_000,
    }, async () => {
      await admin.setViewportSize(size);
      const tables = new Map<string, string>(LIST_PAGES.map(([path, table]) => [path, table]));
      for (const [path, shot] of [...OTHER_PAGES, ...LIST_PAGES.map(([p, , s]) => [p, s] as const)]) {
        await admin.goto(path);
        await settled(admin);
        const table = tables.get(path);
        if (table)
          await admin.locator(`[data-test="${table}"] .el-table__body tr`).first().waitFor({ timeout: 10_000 });
        await screenshot(admin, `layout-${size.name}-${shot}`);
        // The title is in the header bar, at both sizes, and nowhere else.
        const header = admin.locator('header [data-test="page-title"]');
        expect(await header.isVisible(), `${path}: title in the header`).toBe(true);
        const { title, count } = await titleCount(admin);
        expect((await header.textContent())?.trim()).toBe(title);
        expect(count, `${path}: "${title}" shown ${count} times`).toBe(1);
        // The breadcrumb names the page's area (from the route table) on a desktop; a phone has no room for it.
        const crumb = admin.locator('header [data-test="breadcrumb-area"]');
        if (size === DESKTOP) {
          expect((await crumb.textContent())?.trim(), path).toBe(areaOf(path)[0]);
          expect(await crumb.getAttribute('href'), path).toBe(areaOf(path)[1]);
        } else expect(await crumb.isVisible(), `${path}: breadcrumb on a phone`).toBe(false);
        const o = await overflow(admin);
        expect(o.document, `${path}: page wider than the screen`).toBeLessThanOrEqual(o.viewport);
        expect(o.main, `${path}: content wider than the screen`).toBeLessThanOrEqual(0);
        if (!table) continue;
        if (size === DESKTOP) {
          expect(await pinnedOverlap(admin, table), `${path}: pinned actions cover a column`).toBeLessThanOrEqual(1);
          // The request log's columns fit a laptop screen without sideways scrolling.
          if (path === '/admin/logs') expect(await scrollsSideways(admin, table), path).toBe(false);
        } else {
          // A card list: no sideways scrolling, and the actions are on screen.
          expect(await scrollsSideways(admin, table), `${path}: table scrolls sideways`).toBe(false);
          for (const right of await buttonEdges(admin, table)) {
            expect(right, `${path}: a button is off-screen`).toBeLessThanOrEqual(size.width);
          }
        }
      }
    });
  }

  it('keeps the key search placeholder whole, and one date-range separator on every page', async () => {
    for (const size of SIZES) {
      await admin.setViewportSize(size);
      await admin.goto('/admin/keys');
      const selector = 'input[data-test="keys-search"], [data-test="keys-search"] input';
      await admin.locator(selector).first().waitFor();
      const { text, room } = await placeholderFit(admin, selector);
      expect(text, `${size.name}: placeholder cut`).toBeLessThanOrEqual(room);
    }
    await admin.setViewportSize(DESKTOP);
    const separators = new Set<string>();
    for (const path of ['/logs', '/admin/logs', '/admin/audit']) {
      await admin.goto(path);
      const separator = admin.locator('.el-range-separator').first();
      await separator.waitFor();
      separators.add(((await separator.textContent()) ?? '').trim());
    }
    expect([...separators]).toEqual(['to']);
  });

  it('fits the logs date-range picker on a phone', async () => {
    await admin.setViewportSize(PHONE);
    await admin.goto('/logs');
    const range = admin.locator('[data-test="logs-range"] .el-date-editor');
    await range.waitFor();
    const box = await range.boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(PHONE.width);
    await range.locator('input').first().click();
    const panel = admin.locator('.el-date-range-picker:visible');
    await panel.waitFor();
    await admin.waitForTimeout(400); // the panel's entry transition
    const open = await panel.boundingBox();
    expect(open?.x ?? -1).toBeGreaterThanOrEqual(0);
    expect((open?.x ?? 0) + (open?.width ?? 0)).toBeLessThanOrEqual(PHONE.width);
    expect((await overflow(admin)).document, 'the open picker widens the page').toBeLessThanOrEqual(PHONE.width);
    await screenshot(admin, `layout-${PHONE.name}-logs-date-picker`);
    await admin.keyboard.press('Escape');
  });

  it('had no console errors on the way', () => {
    expect(problems.flat()).toEqual([]);
  });
});
