import { ApiError } from '../../core/errors.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import type { UsersTable } from '../../infra/db/schema.js';
import type { MasterKeyPrincipal, Principal, UserPrincipal } from '../auth/principal.js';
import {
  ALL_PERMISSIONS,
  BUILTIN_ROLES,
  isOrgPermission,
  type OrgPermission,
  type Permission,
  type TeamRole,
} from './permissions.js';
import type { AccessRepository } from './repository.js';

export interface AccessSummary {
  organization: { id: string; name: string; slug: string; role: string | null };
  organizations: Array<{ id: string; name: string; slug: string; role: string }>;
  teams: Array<{ id: string; name: string; role: TeamRole }>;
  permissions: Permission[];
}

/** Who presented a valid session token or the master key, before an organization is chosen. */
export type Identity = { kind: 'master_key' } | { kind: 'user'; user: UsersTable };

const EVERYTHING: ReadonlySet<Permission> = new Set(ALL_PERMISSIONS);

/** A principal for the master key in an organization (CLI, tests). */
export function masterPrincipal(orgId: string = DEFAULT_ORG_ID): MasterKeyPrincipal {
  return { kind: 'master_key', orgId, permissions: EVERYTHING };
}

/** Parse a role's stored permission list, keeping only organization permissions this version knows. */
export function parsePermissions(json: string): OrgPermission[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value)
    ? value.filter((p): p is OrgPermission => typeof p === 'string' && isOrgPermission(p))
    : [];
}

/**
 * Resolves the principal of a /api request: which organization it is about (the `x-aihub-organization`
 * header, by id or slug, or the caller's home organization) and the permissions the caller's role grants
 * there. A member of another organization cannot even learn that an organization exists: 404.
 */
export class AccessService {
  constructor(private readonly repo: AccessRepository) {}

  async principal(identity: Identity, orgHint: string | undefined): Promise<Principal> {
    if (identity.kind === 'master_key') {
      if (orgHint === undefined) return masterPrincipal();
      return masterPrincipal((await this.org(orgHint)).id);
    }
    const { user } = identity;
    const platformAdmin = user.role === 'admin';
    const memberships = await this.repo.membershipsOf(user.id);
    const orgRows = memberships.filter((m) => m.team_id === null);
    let orgId: string;
    if (orgHint !== undefined) {
      const org = await this.repo.findOrg(orgHint);
      if (!org || (!platformAdmin && !orgRows.some((m) => m.org_id === org.id)))
        throw new ApiError('not_found', `Organization ${orgHint} not found`, { param: 'x-aihub-organization' });
      orgId = org.id;
    } else {
      orgId = (orgRows.find((m) => m.org_id === user.org_id) ?? orgRows[0])?.org_id ?? user.org_id;
    }
    const membership = orgRows.find((m) => m.org_id === orgId);
    if (!membership && !platformAdmin)
      throw new ApiError('forbidden', 'You are not a member of any organization; ask an admin to invite you');
    const org = await this.repo.findOrg(orgId);
    if (!org) throw new ApiError('not_found', `Organization ${orgId} not found`);
    if (org.status !== 'active' && !platformAdmin)
      throw new ApiError('forbidden', `Organization ${org.name} is disabled`);
    const teams = new Map<string, TeamRole>();
    for (const m of memberships) {
      if (m.team_id !== null && m.org_id === orgId) teams.set(m.team_id, m.role === 'admin' ? 'admin' : 'member');
    }
    const principal: UserPrincipal = {
      kind: 'user',
      userId: user.id,
      email: user.email,
      role: user.role,
      orgId,
      orgRole: membership?.role ?? null,
      permissions: platformAdmin ? EVERYTHING : new Set(await this.rolePermissions(orgId, membership?.role ?? '')),
      teams,
    };
    return principal;
  }

  /** What the console shows of the caller's place: the current organization, the others, teams, permissions. */
  async describe(principal: Principal): Promise<AccessSummary> {
    const org = await this.org(principal.orgId);
    const organizations = principal.kind === 'user' ? await this.repo.organizationsOf(principal.userId) : [];
    const teamIds = principal.kind === 'user' ? [...principal.teams.keys()] : [];
    const names = await this.repo.teamNames(teamIds);
    return {
      organization: {
        id: org.id,
        name: org.name,
        slug: org.slug,
        role: principal.kind === 'user' ? principal.orgRole : null,
      },
      organizations,
      teams:
        principal.kind === 'user'
          ? [...principal.teams].map(([id, role]) => ({ id, name: names.get(id) ?? id, role }))
          : [],
      permissions: [...principal.permissions].sort(),
    };
  }

  /** The permissions a role grants in an organization: its stored override or definition, else the built-in. */
  async rolePermissions(orgId: string, key: string): Promise<OrgPermission[]> {
    const stored = await this.repo.findRole(orgId, key);
    if (stored) return key === 'owner' ? [...BUILTIN_ROLES[0]!.permissions] : parsePermissions(stored.permissions);
    return [...(BUILTIN_ROLES.find((r) => r.key === key)?.permissions ?? [])];
  }

  private async org(idOrSlug: string) {
    const org = await this.repo.findOrg(idOrSlug);
    if (!org) throw new ApiError('not_found', `Organization ${idOrSlug} not found`, { param: 'x-aihub-organization' });
    return org;
  }
}
