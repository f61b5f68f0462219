/**
 * Pure helpers of the console's organization pages: who may see what, the permission matrix, the
 * organization switcher's list and the model-pattern and multiplier fields. No Vue, no API: unit-tested
 * beside this file.
 */

/**
 * Whether someone holding `held` may open something that needs any one of `need` (no need: everyone
 * signed in).
 *
 * @example
 * allows(new Set(['keys.own']), ['keys.own', 'keys.all']) // true
 */
export function allows(held: ReadonlySet<string>, need: readonly string[] | undefined): boolean {
  return !need || need.length === 0 || need.some((p) => held.has(p));
}

export interface CatalogPermission {
  name: string;
  description: string;
  scope: 'organization' | 'platform';
}

export interface PermissionGroup {
  /** The part of the permission names before the dot (`keys` for `keys.own`). */
  group: string;
  permissions: CatalogPermission[];
}

/** Organization permissions grouped by the part before the dot, in catalog order. */
export function groupPermissions(catalog: readonly CatalogPermission[]): PermissionGroup[] {
  const groups: PermissionGroup[] = [];
  for (const permission of catalog) {
    if (permission.scope !== 'organization') continue;
    const group = permission.name.split('.')[0] ?? permission.name;
    let entry = groups.find((g) => g.group === group);
    if (!entry) {
      entry = { group, permissions: [] };
      groups.push(entry);
    }
    entry.permissions.push(permission);
  }
  return groups;
}

/** A group's checkbox: all of its permissions held, some, or none. */
export function groupState(group: PermissionGroup, held: readonly string[]): 'all' | 'some' | 'none' {
  const count = group.permissions.filter((p) => held.includes(p.name)).length;
  if (count === 0) return 'none';
  return count === group.permissions.length ? 'all' : 'some';
}

/** Tick or untick a whole group, keeping the catalog's order of the result. */
export function toggleGroup(
  group: PermissionGroup,
  held: readonly string[],
  on: boolean,
  catalog: readonly CatalogPermission[],
): string[] {
  const names = new Set(group.permissions.map((p) => p.name));
  const next = new Set(held.filter((p) => !names.has(p)));
  if (on) for (const name of names) next.add(name);
  return sortByCatalog([...next], catalog);
}

/** Permissions in catalog order (unknown ones last, as they came). */
export function sortByCatalog(names: readonly string[], catalog: readonly CatalogPermission[]): string[] {
  const order = new Map(catalog.map((p, i) => [p.name, i]));
  return [...names].sort(
    (a, b) => (order.get(a) ?? Number.MAX_SAFE_INTEGER) - (order.get(b) ?? Number.MAX_SAFE_INTEGER),
  );
}

export interface SwitcherOrganization {
  id: string;
  name: string;
  slug: string;
  /** The caller's role there; null where a platform admin is not a member. */
  role: string | null;
  status?: 'active' | 'disabled';
}

/**
 * The switcher's list: the caller's own organizations (from /api/me), then, for a platform admin, every
 * other organization of the instance (GET /api/organizations), each once, sorted by name.
 */
export function switcherList(
  mine: readonly SwitcherOrganization[],
  everyOrg: readonly SwitcherOrganization[] = [],
): SwitcherOrganization[] {
  const byId = new Map<string, SwitcherOrganization>();
  for (const org of everyOrg) byId.set(org.id, { ...org });
  for (const org of mine) byId.set(org.id, { ...byId.get(org.id), ...org });
  const byName = (a: SwitcherOrganization, b: SwitcherOrganization) =>
    a.name.localeCompare(b.name) || a.slug.localeCompare(b.slug);
  const all = [...byId.values()];
  return [...all.filter((o) => o.role !== null).sort(byName), ...all.filter((o) => o.role === null).sort(byName)];
}

/**
 * The model-access field's value for the API: trimmed, duplicates dropped; an empty list means every model
 * (null). A pattern with a space or longer than 200 characters is returned as `invalid`.
 */
export function modelPatterns(values: readonly string[]): { value: string[] | null; invalid?: string } {
  const out: string[] = [];
  for (const raw of values) {
    const value = raw.trim();
    if (!value) continue;
    if (/\s/.test(value) || value.length > 200) return { value: null, invalid: value };
    if (!out.includes(value)) out.push(value);
  }
  return { value: out.length ? out : null };
}

/**
 * The price-multiplier field: empty means none (null: list price, or the organization's for a team); otherwise
 * a number from 0 to 1000. Returns undefined for anything else.
 */
export function parseMultiplier(text: string): number | null | undefined {
  const value = text.trim();
  if (value === '') return null;
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 && n <= 1000 ? n : undefined;
}

/** A suggested slug for an organization name (the server makes its own when none is sent). */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
}
