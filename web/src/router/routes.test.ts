import { describe, expect, it } from 'vitest';
import { isPermission } from '../../../src/modules/access/permissions';
import { allows } from '../utils/access';
import { homeOf, MENU_AREAS, menuOf, PAGES } from './routes';

const can = (held: string[]) => (need: readonly string[] | undefined) => allows(new Set(held), need);

describe('the route table', () => {
  it('names only permissions of the server catalog', () => {
    for (const page of PAGES)
      for (const p of page.permission ?? []) expect(isPermission(p), `${page.path}: ${p}`).toBe(true);
  });

  it('guards every organization and administration page with a permission', () => {
    const open = PAGES.filter((page) => (page.area === 'org' || page.area === 'admin') && !page.permission?.length);
    expect(open.map((page) => page.path)).toEqual([]);
  });

  it('lists in the menus only the pages the caller may open', () => {
    const developer = can(['org.read', 'keys.own', 'logs.own']);
    expect(menuOf('portal', developer).map((i) => i.path)).toEqual(['/dashboard', '/keys', '/playground', '/logs']);
    expect(menuOf('org', developer).map((i) => i.path)).toEqual(['/org/settings', '/org/roles']);
    expect(menuOf('admin', developer)).toEqual([]);
    const auditor = can(['org.read', 'members.read', 'teams.read', 'logs.all', 'audit.read']);
    expect(menuOf('admin', auditor).map((i) => i.path)).toEqual(['/admin/logs', '/admin/audit']);
    expect(menuOf('portal', can([])).map((i) => i.path)).toEqual(['/dashboard']);
  });

  it('leads a breadcrumb to the first page of the area the caller may open', () => {
    expect(homeOf('org', can(['members.read']))).toBe('/org/members');
    expect(homeOf('admin', can(['audit.read']))).toBe('/admin/audit');
    expect(homeOf('admin')).toBe('/admin/overview');
    expect(MENU_AREAS.map((a) => a.area)).toEqual(['portal', 'org', 'admin']);
  });
});
