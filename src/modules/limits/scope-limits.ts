import { notFound } from '../../core/errors.js';
import { isAdmin, type Principal } from '../auth/principal.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { TeamsService } from '../teams/service.js';
import type { UsageSummary } from '../usage/summary.js';
import type { UsersService } from '../users/service.js';
import type { LimitPolicy, ScopeType } from './policy.js';
import type { LimitsService } from './service.js';

type PolicyScope = Exclude<ScopeType, 'key'>;

export interface ScopeLimitsDeps {
  limits: LimitsService;
  users: UsersService;
  teams: TeamsService;
  summary: UsageSummary;
  organizations: Pick<OrganizationsService, 'isMember'>;
}

/**
 * The admin API's view of user, team and organization limits: each call first checks that the scope is
 * the caller's to see — a member of the current organization, one of its teams, the organization itself
 * (platform admins: any organization) — and answers 404 otherwise, then reads or changes its policy.
 */
export class ScopeLimits {
  constructor(private readonly deps: ScopeLimitsDeps) {}

  /** The policy of a scope, with what it used in its current periods. */
  async get(
    principal: Principal,
    scope: PolicyScope,
    id: string,
  ): Promise<{ limits: LimitPolicy; usage: { spend: number; tokens: number; requests: number } }> {
    await this.mustReach(principal, scope, id);
    const policy = this.deps.limits.get(scope, id);
    const usage = await this.deps.summary.forScope(scope, id, policy);
    return { limits: policy, usage: { spend: usage.spend.used, tokens: usage.tokens.used, requests: usage.requests } };
  }

  /** Change the policy of a scope (undefined fields kept, null removes a limit). */
  async set(principal: Principal, scope: PolicyScope, id: string, patch: Partial<LimitPolicy>): Promise<LimitPolicy> {
    await this.mustReach(principal, scope, id);
    return this.deps.limits.set(scope, id, patch);
  }

  private async mustReach(principal: Principal, scope: PolicyScope, id: string): Promise<void> {
    const { orgId } = principal;
    let found: boolean;
    if (scope === 'user') {
      const user = await this.deps.users.get(id).catch(() => undefined);
      found = user !== undefined && (await this.deps.organizations.isMember(orgId, id));
    } else if (scope === 'team') {
      found = (await this.deps.teams.find(id))?.org_id === orgId;
    } else {
      const org = await this.deps.teams.findOrg(id);
      found = org !== undefined && (org.id === orgId || isAdmin(principal));
    }
    if (!found) throw notFound(scope === 'org' ? 'Organization' : scope === 'team' ? 'Team' : 'User');
  }
}
