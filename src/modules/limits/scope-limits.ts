import { notFound } from '../../core/errors.js';
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
}

/**
 * The admin API's view of user, team and organization limits: each call first checks that the scope
 * exists (404 otherwise), then reads or changes its policy.
 */
export class ScopeLimits {
  constructor(private readonly deps: ScopeLimitsDeps) {}

  /** The policy of a scope, with what it used in its current periods. */
  async get(
    scope: PolicyScope,
    id: string,
  ): Promise<{ limits: LimitPolicy; usage: { spend: number; tokens: number; requests: number } }> {
    await this.mustExist(scope, id);
    const policy = this.deps.limits.get(scope, id);
    const usage = await this.deps.summary.forScope(scope, id, policy);
    return { limits: policy, usage: { spend: usage.spend.used, tokens: usage.tokens.used, requests: usage.requests } };
  }

  /** Change the policy of a scope (undefined fields kept, null removes a limit). */
  async set(scope: PolicyScope, id: string, patch: Partial<LimitPolicy>): Promise<LimitPolicy> {
    await this.mustExist(scope, id);
    return this.deps.limits.set(scope, id, patch);
  }

  private async mustExist(scope: PolicyScope, id: string): Promise<void> {
    const found =
      scope === 'user'
        ? await this.deps.users.get(id).catch(() => undefined)
        : scope === 'team'
          ? await this.deps.teams.find(id)
          : await this.deps.teams.findOrg(id);
    if (!found) throw notFound(scope === 'org' ? 'Organization' : scope === 'team' ? 'Team' : 'User');
  }
}
