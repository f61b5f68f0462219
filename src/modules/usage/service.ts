import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { ApiKeysTable } from '../../infra/db/schema.js';
import type { Principal } from '../auth/principal.js';
import type { KeysService } from '../keys/service.js';
import { policyFromColumns } from '../limits/policy.js';
import type { LimitsService } from '../limits/service.js';
import { type DailyUsage, historyRange, type ScopeUsage, type UsageSummary } from './summary.js';

/** Who asks for usage: an API key (it sees itself only) or a signed-in principal. */
export type UsageCaller = { kind: 'key'; keyId: string } | { kind: 'principal'; principal: Principal };

export interface KeyUsage {
  id: string;
  name: string;
  hint: string;
  status: string;
  usage: ScopeUsage;
}

export interface CurrentUsage {
  user: { id: string; usage: ScopeUsage } | null;
  keys: KeyUsage[];
}

export interface HistoryQuery {
  from?: number | undefined;
  to?: number | undefined;
}

export interface UsageServiceDeps {
  summary: UsageSummary;
  keys: KeysService;
  limits: LimitsService;
  clock: Clock;
}

/** What the usage dashboards show, and who may see which part of it. */
export class UsageService {
  constructor(private readonly deps: UsageServiceDeps) {}

  /** Spend, tokens and limits now: of the calling key, or of the signed-in user and each of their active keys. */
  async current(caller: UsageCaller): Promise<CurrentUsage> {
    if (caller.kind === 'key') {
      const row = await this.deps.keys.getById(caller.keyId);
      return { user: null, keys: [await this.keyUsage(row)] };
    }
    const { principal } = caller;
    if (principal.kind !== 'user')
      throw new ApiError('bad_request', 'The master key has no usage of its own; see /api/admin/logs');
    const { rows } = await this.deps.keys.listMine(principal, {
      scope: 'own',
      status: 'active',
      limit: 500,
      offset: 0,
    });
    return {
      user: {
        id: principal.userId,
        usage: await this.deps.summary.forScope(
          'user',
          principal.userId,
          this.deps.limits.get('user', principal.userId),
        ),
      },
      keys: await Promise.all(rows.map((row) => this.keyUsage(row))),
    };
  }

  /** Daily usage of the calling key, of one key the principal may see (`keyId`), or of the signed-in user. */
  async history(caller: UsageCaller, query: HistoryQuery & { keyId?: string | undefined }): Promise<DailyUsage[]> {
    const { from, to } = historyRange(query, this.deps.clock.now());
    if (caller.kind === 'key') return this.deps.summary.daily('key', caller.keyId, from, to);
    const { principal } = caller;
    if (query.keyId) {
      await this.deps.keys.getVisible(query.keyId, principal);
      return this.deps.summary.daily('key', query.keyId, from, to);
    }
    if (principal.kind !== 'user')
      throw new ApiError('bad_request', 'Pass keyId, or use /api/admin/logs with the master key');
    return this.deps.summary.daily('user', principal.userId, from, to, principal.orgId);
  }

  /** Daily usage across the current organization, or of one user in it (usage.read). */
  historyForAll(
    principal: Principal,
    query: HistoryQuery & { userId?: string | undefined },
    instanceWide = false,
  ): Promise<DailyUsage[]> {
    const { from, to } = historyRange(query, this.deps.clock.now());
    return this.deps.summary.dailyForOrg(principal.orgId, from, to, query.userId, instanceWide);
  }

  private async keyUsage(row: ApiKeysTable): Promise<KeyUsage> {
    return {
      id: row.id,
      name: row.name,
      hint: row.hint,
      status: row.status,
      usage: await this.deps.summary.forScope('key', row.id, policyFromColumns(row)),
    };
  }
}
