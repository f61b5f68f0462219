import type { UserRole } from '../../infra/db/schema.js';
import type { Permission, TeamRole } from '../access/permissions.js';
import type { Actor } from '../audit/service.js';

/**
 * Who is calling the control plane, in which organization (the `x-aihub-organization` header, or the
 * caller's home organization), and what they may do there.
 */
export type Principal = UserPrincipal | MasterKeyPrincipal;

export interface UserPrincipal {
  kind: 'user';
  userId: string;
  email: string;
  /** The account's instance role: `admin` is a platform admin (every organization, every permission). */
  role: UserRole;
  /** The organization this request is about. */
  orgId: string;
  /** The caller's role key in that organization; null for a platform admin who is not a member. */
  orgRole: string | null;
  permissions: ReadonlySet<Permission>;
  /** The caller's teams in this organization and their role in each. */
  teams: ReadonlyMap<string, TeamRole>;
}

export interface MasterKeyPrincipal {
  kind: 'master_key';
  orgId: string;
  permissions: ReadonlySet<Permission>;
}

/** A platform admin (or the master key): above every organization. */
export function isAdmin(principal: Principal): boolean {
  return principal.kind === 'master_key' || principal.role === 'admin';
}

export function can(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has(permission);
}

/** The caller's user id (null for the master key). */
export function userIdOf(principal: Principal): string | null {
  return principal.kind === 'user' ? principal.userId : null;
}

/** Team ids the caller belongs to in the current organization (admins of the team or members). */
export function teamIdsOf(principal: Principal): string[] {
  return principal.kind === 'user' ? [...principal.teams.keys()] : [];
}

export function actorOf(principal: Principal | null): Actor {
  if (!principal) return { type: 'anonymous', id: null };
  return principal.kind === 'master_key' ? { type: 'master_key', id: null } : { type: 'user', id: principal.userId };
}
