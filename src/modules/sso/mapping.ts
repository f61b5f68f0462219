import type { TeamRole } from '../access/permissions.js';

/**
 * One claim mapping rule: when the claim (a dotted path into the ID token / userinfo claims, e.g. `groups` or
 * `realm_access.roles`) holds `value` (`*` = any non-empty value), the person gets the role and/or the team —
 * and, on an instance-wide connection, a membership of the organization.
 */
export interface MappingRule {
  claim: string;
  value: string;
  /** Organization id (instance-wide connections only; an org-scoped connection maps into its own). */
  organization?: string | undefined;
  /** Organization role key. */
  role?: string | undefined;
  /** Team id (a team of the organization). */
  team?: string | undefined;
  /** Role in that team (default `member`). */
  teamRole?: TeamRole | undefined;
}

/** What the mapping gives someone in one organization. */
export interface PlannedMembership {
  orgId: string;
  role: string;
  /** True when a rule named the role (it is then kept in sync at each sign-in); false = the default role. */
  roleFromRule: boolean;
  teams: Array<{ teamId: string; role: TeamRole }>;
}

export interface MappingContext {
  /** The connection's organization; null for an instance-wide connection. */
  connectionOrgId: string | null;
  defaultRole: string;
  /** Where an instance-wide connection puts people no rule places (new accounts only). */
  fallbackOrgId: string;
  /** The organization of each team the rules name. */
  teamOrgs: ReadonlyMap<string, string>;
}

export interface MappingPlan {
  memberships: PlannedMembership[];
  /** The rules that matched, by index. */
  matched: number[];
  /** True when no rule placed the person and the plan is the fallback organization. */
  fallback: boolean;
}

/** The value at a dotted path of the claims (`realm_access.roles`), or undefined. */
export function readClaim(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Whether a claim matches a rule's value: equal to it (or to one element of an array); `*` = present. */
export function claimMatches(claim: unknown, value: string): boolean {
  const values = Array.isArray(claim) ? claim : [claim];
  return values.some((v) => {
    if (v === undefined || v === null || v === false || v === '') return false;
    if (value === '*') return true;
    return (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && String(v) === value;
  });
}

/**
 * Work out the memberships the claims give. The first matching rule that names a role decides the role in
 * its organization; every matching rule's team is joined. Pure: the caller validates ids and applies it.
 */
export function planMemberships(
  claims: Record<string, unknown>,
  rules: readonly MappingRule[],
  context: MappingContext,
): MappingPlan {
  const matched: number[] = [];
  const byOrg = new Map<string, PlannedMembership>();
  const orgOf = (rule: MappingRule): string | undefined => {
    if (context.connectionOrgId !== null) return context.connectionOrgId;
    return rule.organization ?? (rule.team ? context.teamOrgs.get(rule.team) : undefined);
  };
  const entry = (orgId: string): PlannedMembership => {
    let found = byOrg.get(orgId);
    if (!found) {
      found = { orgId, role: context.defaultRole, roleFromRule: false, teams: [] };
      byOrg.set(orgId, found);
    }
    return found;
  };
  if (context.connectionOrgId !== null) entry(context.connectionOrgId);
  rules.forEach((rule, index) => {
    if (!claimMatches(readClaim(claims, rule.claim), rule.value)) return;
    matched.push(index);
    const orgId = orgOf(rule);
    if (orgId === undefined) return;
    const membership = entry(orgId);
    if (rule.role && !membership.roleFromRule) {
      membership.role = rule.role;
      membership.roleFromRule = true;
    }
    if (rule.team && context.teamOrgs.get(rule.team) === orgId && !membership.teams.some((t) => t.teamId === rule.team))
      membership.teams.push({ teamId: rule.team, role: rule.teamRole ?? 'member' });
  });
  if (byOrg.size === 0) {
    return {
      memberships: [{ orgId: context.fallbackOrgId, role: context.defaultRole, roleFromRule: false, teams: [] }],
      matched,
      fallback: true,
    };
  }
  return { memberships: [...byOrg.values()], matched, fallback: false };
}

/** The lower-case domain of an email address, or null. */
export function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  return at > 0 && at < email.length - 1 ? email.slice(at + 1).toLowerCase() : null;
}
