import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const ADMIN = 'admin@example.com';
const MEMBER = 'dev@example.com';

/**
 * Organizations in the console, in Chromium: a platform admin creates an organization from the header's
 * switcher, makes a custom role in the roles editor, adds an existing account as a member and gives them
 * that role, creates a team and puts the member in it, sets the organization's price multiplier; the member
 * signs in, switches to the organization and sees only the pages their role opens.
 */
describe.skipIf(!HAVE_CHROMIUM)('organizations, members, teams and roles in the console', { timeout: 90_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let admin: Page;
  let member: Page;
  let problems: string[][] = [];
  let adminToken = '';
  let orgId = '';
  let pricingGroupId = '';

  const on = (page: Page) => (test: string) => page.locator(`[data-test="${test}"]`);

  /** An API call as the admin, about the new organization. */
  async function asAdmin(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${t.url}${path}`, {
      headers: { authorization: `Bearer ${adminToken}`, 'x-aihub-organization': orgId },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Pick an option of the Element Plus select found by a locator. */
  async function pick(page: Page, select: ReturnType<Page['locator']>, option: string): Promise<void> {
    await select.click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click();
  }

  /** The labels of the side menu. */
  const menu = (page: Page) => page.locator('aside nav .el-menu-item').allTextContents();

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestApp();
    browser = await launch();
    for (const email of [ADMIN, MEMBER]) {
      const res = await fetch(`${t.url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(res.status).toBe(201); // the first account is the platform admin
      if (email === ADMIN) adminToken = ((await res.json()) as { accessToken: string }).accessToken;
    }
    const a = await openPage(browser, t.url);
    const m = await openPage(browser, t.url);
    admin = a.page;
    member = m.page;
    problems = [a.problems, m.problems];
    await signIn(admin, ADMIN, PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('creates an organization from the switcher and works in it', async () => {
    const $ = on(admin);
    await expect.poll(() => $('org-current').textContent()).toBe('Default');
    await $('org-switcher').click();
    await $('org-create').click();
    await $('org-create-name').fill('Acme Research');
    expect(await $('org-create-slug').getAttribute('placeholder')).toBe('acme-research');
    await $('org-create-submit').click();
    await expect.poll(() => $('org-current').textContent()).toBe('Acme Research');
    const orgs = (await (
      await fetch(`${t.url}/api/organizations`, { headers: { authorization: `Bearer ${adminToken}` } })
    ).json()) as { data: Array<{ id: string; slug: string; role: string | null }> };
    const acme = orgs.data.find((o) => o.slug === 'acme-research');
    expect(acme?.role).toBe('owner');
    orgId = acme?.id ?? '';
    // The pages now ask about the new organization: its settings show its name.
    await admin.goto('/org/settings');
    await expect.poll(() => $('org-name').inputValue()).toBe('Acme Research');
    // The choice survives a reload (it is kept in the browser and sent as x-aihub-organization).
    await admin.reload();
    await expect.poll(() => $('org-current').textContent()).toBe('Acme Research');
  });

  it('changes the organization settings', async () => {
    const $ = on(admin);
    await admin.goto('/org/settings');
    await $('org-multiplier').fill('abc');
    await expect
      .poll(() => admin.locator('.el-form-item__error').allTextContents())
      .toContain('A number from 0 to 1000, or empty');
    expect(await $('org-save').isDisabled()).toBe(true);
    await $('org-multiplier').fill('1.25');
    await $('org-models').click();
    await admin.keyboard.type('gpt-4o*');
    await admin.keyboard.press('Enter');
    await $('org-name').click(); // close the model list
    await $('org-save').click();
    await expect.poll(async () => (await asAdmin('/api/org')).body.priceMultiplier).toBe(1.25);
    expect((await asAdmin('/api/org')).body.allowedModels).toEqual(['gpt-4o*']);
    await screenshot(admin, 'orgs-settings');
  });

  it('creates a custom role in the roles editor', async () => {
    const $ = on(admin);
    await admin.goto('/org/roles');
    await settled(admin);
    // The owner role is shown read-only.
    await $('role-owner').click();
    expect(await $('perm-org.read').locator('input').isDisabled()).toBe(true);
    await $('role-create').click();
    await $('role-create-name').fill('Reviewer');
    await $('role-create-name').blur();
    await expect.poll(() => $('role-create-key').inputValue()).toBe('reviewer');
    await pick(admin, $('role-create-from'), 'Developer');
    await $('role-create-submit').click();
    await expect.poll(() => $('role-title').textContent()).toBe('Reviewer');
    // Starting from Developer: untick the own logs, tick reading members.
    expect(await $('perm-logs.own').locator('input').isChecked()).toBe(true);
    await $('perm-logs.own').click();
    await $('perm-members.read').click();
    await $('role-save').click();
    await expect
      .poll(async () => {
        const roles = (await asAdmin('/api/org/roles')).body.data as Array<{ key: string; permissions: string[] }>;
        return roles.find((r) => r.key === 'reviewer')?.permissions.sort();
      })
      .toEqual(['jobs.manage', 'jobs.read', 'keys.own', 'members.read', 'org.read']);
    await screenshot(admin, 'orgs-roles');
  });

  it('adds an existing account as a member and gives them the custom role', async () => {
    const $ = on(admin);
    await admin.goto('/org/members');
    await settled(admin);
    await $('member-add').click();
    await $('member-add-email').fill('nobody@example.com');
    await pick(admin, $('member-add-role'), 'Developer');
    await $('member-add-submit').click();
    // No such account: the server's words, and the dialog stays open.
    await expect.poll(() => $('member-add-error').textContent()).toMatch(/nobody@example\.com|not found|no account/i);
    await $('member-add-email').fill(MEMBER);
    await $('member-add-submit').click();
    const row = $('members-table').locator('tr', { hasText: MEMBER });
    await row.waitFor();
    await pick(admin, row.locator('[data-test="member-role"]'), 'Reviewer');
    await expect
      .poll(async () => {
        const members = (await asAdmin('/api/org/members')).body.data as Array<{ email: string; role: string }>;
        return members.find((m) => m.email === MEMBER)?.role;
      })
      .toBe('reviewer');
    await screenshot(admin, 'orgs-members');
  });

  it('creates a team in a pricing group and adds the member to it', async () => {
    const $ = on(admin);
    const group = await fetch(`${t.url}/api/admin/billing/pricing-groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Resellers', multiplier: 1.2 }),
    });
    expect(group.status).toBe(201);
    pricingGroupId = ((await group.json()) as { id: string }).id;
    await admin.goto('/org/teams');
    await settled(admin);
    await $('team-create').click();
    await $('team-name').fill('Platform');
    await $('team-description').fill('The platform squad');
    await $('team-multiplier').fill('0.9');
    await pick(admin, $('team-pricing-group'), 'Resellers');
    await $('team-submit').click();
    await $('team-Platform').click();
    const drawer = $('team-drawer');
    await drawer.waitFor();
    await $('team-member-pick').click();
    await admin.keyboard.type('dev@');
    await admin.locator('.el-select-dropdown__item:visible', { hasText: MEMBER }).first().click();
    await $('team-member-submit').click();
    await expect.poll(() => $('team-members-table').textContent()).toContain(MEMBER);
    await screenshot(admin, 'orgs-team-drawer');
    await admin.keyboard.press('Escape');
    await expect.poll(() => $('teams-table').locator('tr', { hasText: 'Platform' }).textContent()).toContain('×0.9');
    const teams = (await asAdmin('/api/org/teams')).body.data as Array<{ id: string; name: string; members: number }>;
    const platform = teams.find((team) => team.name === 'Platform') as
      | { id: string; members: number; pricingGroupId: string | null }
      | undefined;
    expect(platform?.members).toBe(1);
    expect(platform?.pricingGroupId).toBe(pricingGroupId);
    // The dialog shows the assignment when the team is edited again.
    await $('teams-table').locator('tr', { hasText: 'Platform' }).locator('[data-test="team-more"]').click();
    await admin.locator('[data-test="team-edit"]:visible').click();
    await expect.poll(() => $('team-pricing-group').textContent()).toContain('Resellers');
    await pick(admin, $('team-pricing-group'), "None (the organization's pricing)");
    await $('team-submit').click();
    await expect
      .poll(
        async () =>
          ((await asAdmin('/api/org/teams')).body.data as Array<{ name: string; pricingGroupId: string | null }>).find(
            (team) => team.name === 'Platform',
          )?.pricingGroupId,
      )
      .toBeNull();
    const members = (await asAdmin(`/api/org/teams/${platform?.id}/members`)).body.data as Array<{ email: string }>;
    expect(members.map((m) => m.email)).toEqual([MEMBER]);
  });

  it("lists every organization on the platform admin's page", async () => {
    const $ = on(admin);
    await admin.goto('/admin/organizations');
    await settled(admin);
    const row = $('orgs-table').locator('tr', { hasText: 'acme-research' });
    await expect.poll(() => row.textContent()).toContain('Acme Research');
    expect(await row.textContent()).toContain('owner');
    expect(await $('orgs-table').textContent()).toContain('Default');
    await screenshot(admin, 'orgs-admin');
  });

  it("edits an organization's plan: channel groups from the admin page", async () => {
    const $ = on(admin);
    const row = $('orgs-table').locator('tr', { hasText: 'acme-research' });
    await row.locator('[data-test="org-more"]').click();
    await admin.locator('[data-test="org-edit"]:visible').click();
    // The plan is loaded: the multiplier set on the settings page shows.
    await expect.poll(() => $('org-edit-multiplier').inputValue()).toBe('1.25');
    await $('org-edit-channel-groups').click();
    await admin.keyboard.type('vip');
    await admin.keyboard.press('Enter');
    await $('org-edit-name').click(); // close the list
    await pick(admin, $('org-edit-pricing-group'), 'Resellers');
    await $('org-edit-submit').click();
    await expect.poll(async () => (await asAdmin('/api/org')).body.channelGroups).toEqual(['vip']);
    expect((await asAdmin('/api/org')).body.pricingGroupId).toBe(pricingGroupId);
    expect((await asAdmin('/api/org')).body.priceMultiplier).toBe(1.25);
  });

  it('shows the member only the pages their role opens, in the organization they switch to', async () => {
    const $ = on(member);
    await signIn(member, MEMBER, PASSWORD);
    // At home (Default, as a developer): no organization administration, no platform pages.
    await expect.poll(() => $('org-current').textContent()).toBe('Default');
    expect(await menu(member)).toContain('My logs');
    expect(await $('menu-admin').count()).toBe(0);
    await $('org-switcher').click();
    expect(await $('org-create').count()).toBe(0); // self-serve organizations are off
    await $('org-option-acme-research').click();
    await expect.poll(() => $('org-current').textContent()).toBe('Acme Research');
    // Reviewer: org.read, members.read, keys.own, jobs — no logs, no teams, no administration (members.read
    // shows the invitations too).
    await expect
      .poll(() => menu(member))
      .toEqual(['Dashboard', 'API keys', 'Playground', 'Organization settings', 'Members', 'Invitations', 'Roles']);
    expect(await $('menu-admin').count()).toBe(0);
    // A page the role does not open sends the member home, typed address or not.
    for (const path of ['/org/teams', '/admin/organizations', '/logs']) {
      await member.goto(path);
      await member.waitForURL('**/dashboard');
    }
    // Pages they may see are read-only for them.
    await member.goto('/org/members');
    await settled(member);
    const row = $('members-table').locator('tr', { hasText: MEMBER });
    await expect.poll(() => row.locator('[data-test="member-role-tag"]').textContent()).toBe('Reviewer');
    expect(await $('member-add').count()).toBe(0);
    expect(await $('member-remove').count()).toBe(0);
    await member.goto('/org/settings');
    await expect.poll(() => $('org-name').isDisabled()).toBe(true);
    expect(await $('org-save').count()).toBe(0);
    await member.goto('/org/roles');
    await settled(member);
    expect(await $('role-create').count()).toBe(0);
    expect(await $('perm-keys.own').locator('input').isDisabled()).toBe(true);
    await screenshot(member, 'orgs-member-view');
  });

  it('offers everyone "Create organization" once the admin allows self-serve organizations', async () => {
    await admin.goto('/admin/settings');
    await settled(admin);
    await on(admin)('settings-self-serve-orgs').click();
    await on(admin)('settings-save').click();
    await on(admin)('settings-saved').waitFor();
    await member.keyboard.press('Escape');
    await on(member)('org-switcher').click();
    await on(member)('org-create').waitFor();
    await member.keyboard.press('Escape');
  });

  it('falls back to the home organization when the chosen one is no longer open to the user', async () => {
    await member.evaluate(`localStorage.setItem('aihub.organization', 'org_gone')`);
    await member.goto('/dashboard');
    await expect.poll(() => on(member)('org-current').textContent()).toBe('Default');
    expect(await member.evaluate(`localStorage.getItem('aihub.organization')`)).toBeNull();
    expect(await menu(member)).toContain('My logs');
  });

  it('lays the organization pages out on a phone', async () => {
    await admin.setViewportSize(SIZES[1]);
    for (const path of ['/org/settings', '/org/members', '/org/teams', '/org/roles', '/admin/organizations']) {
      await admin.goto(path);
      await settled(admin);
      const width = (await admin.evaluate('document.documentElement.scrollWidth')) as number;
      expect(width, path).toBeLessThanOrEqual(SIZES[1].width);
      await screenshot(admin, `orgs-phone-${path.slice(1).replace(/\//g, '-')}`);
    }
    await admin.setViewportSize(SIZES[0]);
  });

  it('logged no errors in the browser', () => {
    // Only the refused "add nobody@example.com" (404, shown in the dialog) may appear.
    const expected = /Failed to load resource: the server responded with a status of 404/;
    expect(problems.flat().filter((p) => !expected.test(p))).toEqual([]);
  });
});
