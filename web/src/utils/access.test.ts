import { describe, expect, it } from 'vitest';
import {
  allows,
  type CatalogPermission,
  groupPermissions,
  groupState,
  modelPatterns,
  parseMultiplier,
  slugify,
  sortByCatalog,
  switcherList,
  toggleGroup,
} from './access';

const CATALOG: CatalogPermission[] = [
  { name: 'org.read', description: 'See', scope: 'organization' },
  { name: 'org.manage', description: 'Change', scope: 'organization' },
  { name: 'keys.own', description: 'Own keys', scope: 'organization' },
  { name: 'keys.team', description: 'Team keys', scope: 'organization' },
  { name: 'keys.all', description: 'All keys', scope: 'organization' },
  { name: 'channels.manage', description: 'Channels', scope: 'platform' },
];

describe('allows', () => {
  it('opens a page without a permission to everyone, and one with a list to a holder of any of them', () => {
    expect(allows(new Set(), undefined)).toBe(true);
    expect(allows(new Set(), [])).toBe(true);
    expect(allows(new Set(['keys.team']), ['keys.own', 'keys.team'])).toBe(true);
    expect(allows(new Set(['keys.read']), ['keys.own', 'keys.team'])).toBe(false);
    expect(allows(new Set(), ['org.read'])).toBe(false);
  });
});

describe('the permission matrix', () => {
  const groups = groupPermissions(CATALOG);
  const keysGroup = () => {
    const group = groups.find((g) => g.group === 'keys');
    if (!group) throw new Error('no keys group');
    return group;
  };

  it('groups organization permissions by the part before the dot, in catalog order, without platform ones', () => {
    expect(groups.map((g) => g.group)).toEqual(['org', 'keys']);
    expect(groups[1]?.permissions.map((p) => p.name)).toEqual(['keys.own', 'keys.team', 'keys.all']);
  });

  it('says whether a group is fully, partly or not held', () => {
    const keys = keysGroup();
    expect(groupState(keys, [])).toBe('none');
    expect(groupState(keys, ['keys.own', 'org.read'])).toBe('some');
    expect(groupState(keys, ['keys.all', 'keys.own', 'keys.team'])).toBe('all');
  });

  it('ticks and unticks a whole group, leaving the other groups alone and keeping catalog order', () => {
    const keys = keysGroup();
    expect(toggleGroup(keys, ['keys.all', 'org.read'], true, CATALOG)).toEqual([
      'org.read',
      'keys.own',
      'keys.team',
      'keys.all',
    ]);
    expect(toggleGroup(keys, ['keys.all', 'org.read', 'keys.own'], false, CATALOG)).toEqual(['org.read']);
  });

  it('sorts by the catalog and keeps unknown permissions at the end', () => {
    expect(sortByCatalog(['x.unknown', 'keys.all', 'org.read'], CATALOG)).toEqual([
      'org.read',
      'keys.all',
      'x.unknown',
    ]);
  });
});

describe('the organization switcher list', () => {
  it('lists the own organizations first, then (platform admin) the others, each once, by name', () => {
    const mine = [
      { id: 'o2', name: 'Zeta', slug: 'zeta', role: 'developer' },
      { id: 'o1', name: 'Acme', slug: 'acme', role: 'owner' },
    ];
    const every = [
      { id: 'o1', name: 'Acme', slug: 'acme', role: 'owner', status: 'active' as const },
      { id: 'o3', name: 'Beta', slug: 'beta', role: null, status: 'disabled' as const },
      { id: 'o2', name: 'Zeta', slug: 'zeta', role: 'developer', status: 'active' as const },
    ];
    const list = switcherList(mine, every);
    expect(list.map((o) => o.id)).toEqual(['o1', 'o2', 'o3']);
    expect(list[2]).toMatchObject({ role: null, status: 'disabled' });
    expect(switcherList(mine).map((o) => o.name)).toEqual(['Acme', 'Zeta']);
  });
});

describe('form fields', () => {
  it('turns the model tags into the API value: trimmed, unique, empty = every model (null)', () => {
    expect(modelPatterns([])).toEqual({ value: null });
    expect(modelPatterns([' gpt-4o* ', 'claude-3', 'gpt-4o*', ''])).toEqual({ value: ['gpt-4o*', 'claude-3'] });
    expect(modelPatterns(['gpt 4'])).toEqual({ value: null, invalid: 'gpt 4' });
    expect(modelPatterns(['x'.repeat(201)]).invalid).toHaveLength(201);
  });

  it('reads the price multiplier: empty is none, 0 to 1000 is taken, anything else is refused', () => {
    expect(parseMultiplier('')).toBeNull();
    expect(parseMultiplier(' 1.25 ')).toBe(1.25);
    expect(parseMultiplier('0')).toBe(0);
    expect(parseMultiplier('.5')).toBe(0.5);
    expect(parseMultiplier('1000')).toBe(1000);
    for (const bad of ['1000.5', '-1', 'abc', '1e3', '1,5', 'Infinity'])
      expect(parseMultiplier(bad), bad).toBeUndefined();
  });

  it('suggests a slug like the server accepts', () => {
    expect(slugify('Acme Research & Development')).toBe('acme-research-development');
    expect(slugify('  Crème Brûlée  ')).toBe('creme-brulee');
    expect(slugify('研发部')).toBe('');
    expect(slugify(`${'a'.repeat(47)} b`)).toBe('a'.repeat(47));
  });
});
