import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import type { OrganizationsTable } from '../../infra/db/schema.js';
import {
  ALL_ORG_PERMISSIONS,
  BUILTIN_ROLES,
  isOrgPermission,
  ORG_PERMISSIONS,
  type OrgPermission,
  PLATFORM_PERMISSIONS,
} from '../access/permissions.js';
import { parsePermissions } from '../access/service.js';
import { isAdmin, type Principal } from '../auth/principal.js';
import type { SettingsService } from '../settings/service.js';
import type { MemberRow, OrganizationsRepository } from './repository.js';

export interface OrganizationResponse {
  id: string;
  name: string;
  slug: string;
  status: 'active' | 'disabled';
  allowedModels: string[] | null;
  channelGroups: string[] | null;
  priceMultiplier: number | null;
  /** The pricing group the organization is assigned to (null: none). */
  pricingGroupId: string | null;
  require2fa: boolean;
  members: number;
  teams: number;
  createdAt: number;
  updatedAt: number;
}

export interface MemberResponse {
  userId: string;
  email: string;
  name: string;
  role: string;
  status: 'active' | 'disabled';
  teams: Array<{ id: string; name: string; role: 'admin' | 'member' }>;
  joinedAt: number;
  lastLoginAt: number | null;
  twoFactor: boolean;
}

export interface RoleResponse {
  key: string;
  name: string;
  description: string | null;
  permissions: OrgPermission[];
  builtin: boolean;
  customized: boolean;
  members: number;
}

/** What happened, for the caches that depend on it (key verifier, other instances). */
export type OrganizationChange =
  | { kind: 'org'; orgId: string }
  | { kind: 'member_removed'; orgId: string; userId: string; revokedKeyIds: string[] };

const PPM = 1_000_000;

export function parseModelList(json: string | null): string[] | null {
  if (json === null) return null;
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : null;
}

export function multiplierFromPpm(ppm: number | null): number | null {
  return ppm === null ? null : Number(ppm) / PPM;
}

export function multiplierToPpm(value: number | null): number | null {
  return value === null ? null : Math.round(value * PPM);
}

function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return base.length >= 2 ? base : `org-${base}`.replace(/-+$/, '');
}

function toMember(row: MemberRow, teams: Array<{ id: string; name: string; role: string }>): MemberResponse {
  return {
    userId: row.user_id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    teams: teams.map((t) => ({ id: t.id, name: t.name, role: t.role === 'admin' ? 'admin' : 'member' })),
    joinedAt: Number(row.joined_at),
    lastLoginAt: row.last_login_at === null ? null : Number(row.last_login_at),
    twoFactor: row.two_factor_enabled_at !== null,
  };
}

/**
 * Organizations, their members and their roles. Every method takes the organization it works in (the
 * caller's current one, checked by the route's permission) and never reaches another.
 */
/** Fields both an organization's admins and platform admins may send (the route guards the plan fields). */
export interface OrganizationPatch {
  name?: string | undefined;
  allowedModels?: string[] | null | undefined;
  priceMultiplier?: number | null | undefined;
  channelGroups?: string[] | null | undefined;
}

const jsonSet = (list: string[] | null) => (list === null ? null : JSON.stringify([...new Set(list)]));

/** The organization's plan (model access, price multiplier, channel groups) as columns to set. */
function planColumns(patch: OrganizationPatch): Partial<OrganizationsTable> {
  const set: Partial<OrganizationsTable> = {};
  if (patch.allowedModels !== undefined) set.allowed_models = jsonSet(patch.allowedModels);
  if (patch.priceMultiplier !== undefined) set.price_multiplier_ppm = multiplierToPpm(patch.priceMultiplier);
  if (patch.channelGroups !== undefined) set.channel_groups = jsonSet(patch.channelGroups);
  return set;
}

export class OrganizationsService {
  readonly #listeners: Array<(change: OrganizationChange) => void> = [];

  constructor(
    private readonly repo: OrganizationsRepository,
    private readonly settings: SettingsService,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  onChange(listener: (change: OrganizationChange) => void): void {
    this.#listeners.push(listener);
  }

  private emit(change: OrganizationChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  findOrg(idOrSlug: string): Promise<OrganizationsTable | undefined> {
    return this.repo.find(idOrSlug);
  }

  // ---- organizations

  /** The caller's organizations; a platform admin sees every one (role null where not a member). */
  async listFor(principal: Principal) {
    const rows = await this.repo.listWithRole(
      isAdmin(principal) ? null : principal.kind === 'user' ? principal.userId : null,
    );
    const own =
      principal.kind === 'user' && isAdmin(principal)
        ? new Map((await this.repo.listWithRole(principal.userId)).map((r) => [r.id, r.role]))
        : undefined;
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      slug: r.slug,
      status: r.status,
      role: own ? (own.get(r.id) ?? null) : r.role,
      members: r.members,
      createdAt: Number(r.created_at),
    }));
  }

  async get(orgId: string): Promise<OrganizationResponse> {
    const org = await this.repo.withCounts(orgId);
    if (!org) throw notFound('Organization');
    return {
      id: org.id,
      name: org.name,
      slug: org.slug,
      status: org.status,
      allowedModels: parseModelList(org.allowed_models),
      priceMultiplier: multiplierFromPpm(org.price_multiplier_ppm),
      pricingGroupId: org.pricing_group_id ?? null,
      channelGroups: parseModelList(org.channel_groups),
      require2fa: org.require_2fa === 1,
      members: org.members,
      teams: org.teams,
      createdAt: Number(org.created_at),
      updatedAt: Number(org.updated_at),
    };
  }

  /**
   * Create an organization. Platform admins may always; anyone signed in when self-serve organizations and
   * registration are both on. A user creating one becomes its owner.
   */
  async create(
    input: { name: string; slug?: string | undefined },
    principal: Principal,
  ): Promise<OrganizationResponse> {
    if (!isAdmin(principal)) {
      const st = this.settings.get();
      if (!st.allowSelfServeOrganizations || !st.registrationEnabled)
        throw new ApiError('forbidden', 'Only platform admins can create organizations on this AI Hub');
    }
    const name = input.name.trim();
    let slug = input.slug ?? slugify(name);
    if (await this.repo.slugTaken(slug)) {
      if (input.slug) throw new ApiError('conflict', `The slug ${slug} is taken`, { param: 'slug' });
      slug = `${slug.slice(0, 40)}-${this.newId('x').slice(-6).toLowerCase()}`;
    }
    const now = this.clock.now();
    const userId = principal.kind === 'user' ? principal.userId : null;
    const org: OrganizationsTable = {
      id: this.newId('org'),
      name,
      slug,
      status: 'active',
      allowed_models: null,
      price_multiplier_ppm: null,
      channel_groups: null,
      require_2fa: 0,
      created_by: userId,
      created_at: now,
      updated_at: now,
    };
    const owner = userId
      ? { id: this.newId('mem'), user_id: userId, org_id: org.id, team_id: null, role: 'owner', created_at: now }
      : null;
    try {
      await this.repo.insertWithOwner(org, owner);
    } catch (error) {
      if (await this.repo.slugTaken(slug))
        throw new ApiError('conflict', `The slug ${slug} is taken`, { param: 'slug' });
      throw error;
    }
    return this.get(org.id);
  }

  /** Change the organization (the route has checked that only platform admins change its plan fields). */
  async update(
    orgId: string,
    patch: OrganizationPatch & { require2fa?: boolean | undefined },
  ): Promise<OrganizationResponse> {
    const set: Partial<OrganizationsTable> = { updated_at: this.clock.now(), ...planColumns(patch) };
    if (patch.name !== undefined) set.name = patch.name.trim();
    if (patch.require2fa !== undefined) set.require_2fa = patch.require2fa ? 1 : 0;
    await this.repo.update(orgId, set);
    this.emit({ kind: 'org', orgId });
    return this.get(orgId);
  }

  /** Platform admins: rename, change the slug, disable or enable any organization. */
  async adminUpdate(
    orgId: string,
    patch: OrganizationPatch & { slug?: string | undefined; status?: 'active' | 'disabled' | undefined },
  ): Promise<OrganizationResponse> {
    const org = await this.repo.find(orgId);
    if (!org || org.id !== orgId) throw notFound('Organization');
    if (patch.status === 'disabled' && orgId === DEFAULT_ORG_ID)
      throw new ApiError('conflict', 'The Default organization cannot be disabled', { param: 'status' });
    if (patch.slug !== undefined && patch.slug !== org.slug && (await this.repo.slugTaken(patch.slug)))
      throw new ApiError('conflict', `The slug ${patch.slug} is taken`, { param: 'slug' });
    const set: Partial<OrganizationsTable> = { updated_at: this.clock.now(), ...planColumns(patch) };
    if (patch.name !== undefined) set.name = patch.name.trim();
    if (patch.slug !== undefined) set.slug = patch.slug;
    if (patch.status !== undefined) set.status = patch.status;
    await this.repo.update(orgId, set);
    this.emit({ kind: 'org', orgId });
    return this.get(orgId);
  }

  /** Delete an empty organization (no keys, no teams, no members but the caller). */
  async delete(orgId: string, principal: Principal): Promise<void> {
    const org = await this.repo.find(orgId);
    if (!org || org.id !== orgId) throw notFound('Organization');
    if (orgId === DEFAULT_ORG_ID) throw new ApiError('conflict', 'The Default organization cannot be deleted');
    const contents = await this.repo.contents(orgId);
    const callerIsMember =
      principal.kind === 'user' && (await this.repo.membership(orgId, principal.userId)) !== undefined;
    const otherMembers = contents.members - (callerIsMember ? 1 : 0);
    if (contents.keys > 0 || contents.teams > 0 || otherMembers > 0)
      throw new ApiError(
        'conflict',
        `Organization ${org.name} still has ${otherMembers} other member(s), ${contents.teams} team(s) and ${contents.keys} key(s); remove them or disable the organization instead`,
      );
    await this.repo.delete(orgId);
    this.emit({ kind: 'org', orgId });
  }

  /**
   * The organization's access as allow-lists (none = no limit): models a request's model must match, channel
   * groups a serving channel must be in.
   */
  async access(orgId: string): Promise<{ models: string[][]; channelGroups: string[][] }> {
    const org = await this.repo.find(orgId);
    const models = org ? parseModelList(org.allowed_models) : null;
    const groups = org ? parseModelList(org.channel_groups) : null;
    return { models: models ? [models] : [], channelGroups: groups ? [groups] : [] };
  }

  // ---- members

  async listMembers(
    orgId: string,
    query: { search?: string | undefined; role?: string | undefined; limit: number; offset: number },
  ): Promise<{ data: MemberResponse[]; total: number }> {
    const { rows, total } = await this.repo.listMembers(orgId, query);
    const teams = await this.repo.teamsOf(
      orgId,
      rows.map((r) => r.user_id),
    );
    return { data: rows.map((r) => toMember(r, teams.get(r.user_id) ?? [])), total };
  }

  async getMember(orgId: string, userId: string): Promise<MemberResponse> {
    const row = await this.repo.member(orgId, userId);
    if (!row) throw notFound('Member');
    const teams = await this.repo.teamsOf(orgId, [userId]);
    return toMember(row, teams.get(userId) ?? []);
  }

  /** How many organizations a user belongs to. */
  membershipCount(userId: string): Promise<number> {
    return this.repo.membershipCount(userId);
  }

  /** Whether a user is a member of an organization. */
  async isMember(orgId: string, userId: string): Promise<boolean> {
    return (await this.repo.membership(orgId, userId)) !== undefined;
  }

  /**
   * Make a user a member (invitations, SSO, the members API). Idempotent for an existing member: their role
   * stays unless `replaceRole`.
   */
  async addMember(orgId: string, userId: string, role: string, options: { replaceRole?: boolean } = {}): Promise<void> {
    await this.assertRoleExists(orgId, role);
    const existing = await this.repo.membership(orgId, userId);
    if (existing) {
      if (options.replaceRole && existing.role !== role) await this.repo.setRole(orgId, userId, role);
      return;
    }
    try {
      await this.repo.insertMembership({
        id: this.newId('mem'),
        user_id: userId,
        org_id: orgId,
        team_id: null,
        role,
        created_at: this.clock.now(),
      });
    } catch (error) {
      // Two adds racing: the unique index keeps one row.
      if (!(await this.repo.membership(orgId, userId))) throw error;
    }
  }

  /** The members API: add an existing account by email. */
  async addMemberByEmail(orgId: string, email: string, role: string, principal: Principal): Promise<MemberResponse> {
    await this.assertMayGrant(orgId, role, principal);
    const user = await this.repo.userByEmail(email);
    if (!user)
      throw new ApiError('not_found', `No account with email ${email}; invite them instead`, { param: 'email' });
    if (await this.repo.membership(orgId, user.id))
      throw new ApiError('conflict', `${user.email} is already a member`, { param: 'email' });
    await this.addMember(orgId, user.id, role);
    return this.getMember(orgId, user.id);
  }

  async changeRole(orgId: string, userId: string, role: string, principal: Principal): Promise<MemberResponse> {
    const current = await this.repo.membership(orgId, userId);
    if (!current) throw notFound('Member');
    await this.assertMayGrant(orgId, role, principal);
    if (current.role === 'owner' && role !== 'owner') {
      await this.assertMayGrant(orgId, 'owner', principal);
      if ((await this.repo.countRole(orgId, 'owner')) <= 1)
        throw new ApiError('conflict', 'The organization needs at least one owner: make someone else owner first', {
          param: 'role',
        });
    }
    await this.repo.setRole(orgId, userId, role);
    return this.getMember(orgId, userId);
  }

  async removeMember(orgId: string, userId: string, principal: Principal): Promise<void> {
    const current = await this.repo.membership(orgId, userId);
    if (!current) throw notFound('Member');
    if (current.role === 'owner') {
      const self = principal.kind === 'user' && principal.userId === userId;
      if (!self) await this.assertMayGrant(orgId, 'owner', principal);
      if ((await this.repo.countRole(orgId, 'owner')) <= 1)
        throw new ApiError('conflict', 'The last owner cannot leave the organization; make someone else owner first');
    }
    const revokedKeyIds = await this.repo.removeMember(orgId, userId, this.clock.now());
    this.emit({ kind: 'member_removed', orgId, userId, revokedKeyIds });
  }

  // ---- roles

  async listRoles(orgId: string): Promise<RoleResponse[]> {
    const [stored, counts] = await Promise.all([this.repo.roles(orgId), this.repo.roleCounts(orgId)]);
    const byKey = new Map(stored.map((r) => [r.key, r]));
    const out: RoleResponse[] = BUILTIN_ROLES.map((b) => {
      const override = b.key === 'owner' ? undefined : byKey.get(b.key);
      return {
        key: b.key,
        name: override?.name ?? b.name,
        description: override ? override.description : b.description,
        permissions: override ? parsePermissions(override.permissions) : [...b.permissions],
        builtin: true,
        customized: override !== undefined,
        members: counts.get(b.key) ?? 0,
      };
    });
    for (const r of stored) {
      if (BUILTIN_ROLES.some((b) => b.key === r.key)) continue;
      out.push({
        key: r.key,
        name: r.name,
        description: r.description,
        permissions: parsePermissions(r.permissions),
        builtin: false,
        customized: false,
        members: counts.get(r.key) ?? 0,
      });
    }
    return out;
  }

  async getRole(orgId: string, key: string): Promise<RoleResponse> {
    const role = (await this.listRoles(orgId)).find((r) => r.key === key);
    if (!role) throw notFound('Role');
    return role;
  }

  async createRole(
    orgId: string,
    input: { key: string; name: string; description?: string | null | undefined; permissions: string[] },
  ): Promise<RoleResponse> {
    if (BUILTIN_ROLES.some((b) => b.key === input.key) || (await this.repo.role(orgId, input.key)))
      throw new ApiError('conflict', `A role ${input.key} already exists`, { param: 'key' });
    const now = this.clock.now();
    await this.repo.insertRole({
      id: this.newId('role'),
      org_id: orgId,
      key: input.key,
      name: input.name.trim(),
      description: input.description ?? null,
      permissions: JSON.stringify(checkPermissions(input.permissions)),
      created_at: now,
      updated_at: now,
    });
    return this.getRole(orgId, input.key);
  }

  async updateRole(
    orgId: string,
    key: string,
    patch: { name?: string | undefined; description?: string | null | undefined; permissions?: string[] | undefined },
  ): Promise<RoleResponse> {
    if (key === 'owner')
      throw new ApiError('conflict', 'The owner role always holds every permission', { param: 'key' });
    const current = await this.getRole(orgId, key);
    const now = this.clock.now();
    const permissions = patch.permissions !== undefined ? checkPermissions(patch.permissions) : current.permissions;
    const stored = await this.repo.role(orgId, key);
    if (stored) {
      await this.repo.updateRole(orgId, key, {
        name: patch.name?.trim() ?? current.name,
        description: patch.description !== undefined ? patch.description : current.description,
        permissions: JSON.stringify(permissions),
        updated_at: now,
      });
    } else {
      // The first change to a built-in role stores its override.
      await this.repo.insertRole({
        id: this.newId('role'),
        org_id: orgId,
        key,
        name: patch.name?.trim() ?? current.name,
        description: patch.description !== undefined ? patch.description : current.description,
        permissions: JSON.stringify(permissions),
        created_at: now,
        updated_at: now,
      });
    }
    return this.getRole(orgId, key);
  }

  /** Delete a custom role (refused while members hold it), or reset a built-in one to its default. */
  async deleteRole(orgId: string, key: string): Promise<void> {
    const role = await this.getRole(orgId, key);
    if (!role.builtin && role.members > 0)
      throw new ApiError(
        'conflict',
        `${role.members} member(s) still hold the role ${key}; give them another role first`,
      );
    await this.repo.deleteRole(orgId, key);
  }

  // ---- checks

  async assertRoleExists(orgId: string, role: string): Promise<void> {
    if (BUILTIN_ROLES.some((b) => b.key === role)) return;
    if (!(await this.repo.role(orgId, role)))
      throw new ApiError('validation_failed', `There is no role ${role} in this organization`, { param: 'role' });
  }

  /**
   * A caller may grant a role only if it holds every permission the role has (no escalation), and only an
   * owner (or a platform admin) makes owners.
   */
  async assertMayGrant(orgId: string, role: string, principal: Principal): Promise<void> {
    await this.assertRoleExists(orgId, role);
    if (isAdmin(principal)) return;
    if (role === 'owner') {
      if (principal.kind !== 'user' || principal.orgRole !== 'owner')
        throw new ApiError('forbidden', 'Only an owner can make or unmake owners', { param: 'role' });
      return;
    }
    const granted = (await this.getRole(orgId, role)).permissions;
    const missing = granted.filter((p) => !principal.permissions.has(p));
    if (missing.length > 0)
      throw new ApiError(
        'forbidden',
        `You cannot grant the role ${role}: it has permissions you lack (${missing.join(', ')})`,
        {
          param: 'role',
        },
      );
  }
}

/** Validate a role's permissions: organization permissions only (platform ones belong to platform admins). */
function checkPermissions(list: string[]): OrgPermission[] {
  for (const p of list) {
    if (Object.hasOwn(PLATFORM_PERMISSIONS, p))
      throw new ApiError('validation_failed', `${p} is a platform permission: organization roles cannot hold it`, {
        param: 'permissions',
      });
    if (!isOrgPermission(p))
      throw new ApiError('validation_failed', `Unknown permission ${p}`, { param: 'permissions' });
  }
  return ALL_ORG_PERMISSIONS.filter((p) => list.includes(p));
}

export const PERMISSION_CATALOG = [
  ...Object.entries(ORG_PERMISSIONS).map(([name, description]) => ({
    name,
    description,
    scope: 'organization' as const,
  })),
  ...Object.entries(PLATFORM_PERMISSIONS).map(([name, description]) => ({
    name,
    description,
    scope: 'platform' as const,
  })),
];
