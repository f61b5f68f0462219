import type { Period } from '../limits/periods.js';
import type { LimitsService } from '../limits/service.js';
import type { OrganizationsService } from '../organizations/service.js';

/** What a plan grants while an organization is subscribed (null: leave the organization's as it is). */
export interface PlanAccess {
  allowedModels: string[] | null;
  channelGroups: string[] | null;
  /** Tokens per month (the organization's token quota). */
  tokenQuota: number | null;
}

/** The organization's own access before a plan changed it (restored when the plan ends). */
export interface SavedAccess {
  allowedModels: string[] | null;
  channelGroups: string[] | null;
  tokenQuota: number | null;
  tokenQuotaPeriod: Period;
}

/**
 * Applies a plan's model access, channel groups and token quota to an organization through the organizations
 * and limits services (so the data plane's caches are told as for an admin's change), and restores them.
 */
export class PlanAccessControl {
  constructor(private readonly deps: { organizations: OrganizationsService; limits: LimitsService }) {}

  async snapshot(orgId: string): Promise<SavedAccess> {
    const org = await this.deps.organizations.get(orgId);
    const limits = this.deps.limits.get('org', orgId);
    return {
      allowedModels: org.allowedModels,
      channelGroups: org.channelGroups,
      tokenQuota: limits.tokenQuota,
      tokenQuotaPeriod: limits.tokenQuotaPeriod,
    };
  }

  async apply(orgId: string, access: PlanAccess): Promise<void> {
    const patch = {
      ...(access.allowedModels !== null ? { allowedModels: access.allowedModels } : {}),
      ...(access.channelGroups !== null ? { channelGroups: access.channelGroups } : {}),
    };
    if (Object.keys(patch).length > 0) await this.deps.organizations.adminUpdate(orgId, patch);
    if (access.tokenQuota !== null)
      await this.deps.limits.set('org', orgId, { tokenQuota: access.tokenQuota, tokenQuotaPeriod: 'month' });
  }

  async restore(orgId: string, saved: SavedAccess, plan: PlanAccess): Promise<void> {
    const patch = {
      ...(plan.allowedModels !== null ? { allowedModels: saved.allowedModels } : {}),
      ...(plan.channelGroups !== null ? { channelGroups: saved.channelGroups } : {}),
    };
    if (Object.keys(patch).length > 0) await this.deps.organizations.adminUpdate(orgId, patch);
    if (plan.tokenQuota !== null)
      await this.deps.limits.set('org', orgId, {
        tokenQuota: saved.tokenQuota,
        tokenQuotaPeriod: saved.tokenQuotaPeriod,
      });
  }
}
