import type { ApiKeysTable, LimitPoliciesTable } from '../../infra/db/schema.js';
import { PERIODS, type Period } from './periods.js';

/** Limits that can sit on a key, a user, a team or an organization. null = no limit. */
export interface LimitPolicy {
  /** Spend allowed per budgetPeriod, micro-USD. */
  budgetMicros: number | null;
  budgetPeriod: Period;
  /** Tokens (prompt + completion) allowed per tokenQuotaPeriod. */
  tokenQuota: number | null;
  tokenQuotaPeriod: Period;
  rpm: number | null;
  tpm: number | null;
  maxConcurrency: number | null;
}

export const NO_LIMITS: LimitPolicy = {
  budgetMicros: null,
  budgetPeriod: 'month',
  tokenQuota: null,
  tokenQuotaPeriod: 'month',
  rpm: null,
  tpm: null,
  maxConcurrency: null,
};

export type ScopeType = 'key' | 'user' | 'team' | 'org';

export function isEmptyPolicy(p: LimitPolicy): boolean {
  return (
    p.budgetMicros === null && p.tokenQuota === null && p.rpm === null && p.tpm === null && p.maxConcurrency === null
  );
}

function period(value: string | null): Period {
  return PERIODS.includes(value as Period) ? (value as Period) : 'month';
}

type PolicyColumns = Pick<
  ApiKeysTable,
  'budget_micros' | 'budget_period' | 'token_quota' | 'token_quota_period' | 'rpm' | 'tpm' | 'max_concurrency'
>;

export function policyFromColumns(row: PolicyColumns | LimitPoliciesTable): LimitPolicy {
  return {
    budgetMicros: row.budget_micros,
    budgetPeriod: period(row.budget_period),
    tokenQuota: row.token_quota,
    tokenQuotaPeriod: period(row.token_quota_period),
    rpm: row.rpm,
    tpm: row.tpm,
    maxConcurrency: row.max_concurrency,
  };
}

export function columnsFromPolicy(p: LimitPolicy): PolicyColumns {
  return {
    budget_micros: p.budgetMicros,
    budget_period: p.budgetPeriod,
    token_quota: p.tokenQuota,
    token_quota_period: p.tokenQuotaPeriod,
    rpm: p.rpm,
    tpm: p.tpm,
    max_concurrency: p.maxConcurrency,
  };
}

/** Apply a partial change (undefined = keep, null = remove the limit). */
export function mergePolicy(base: LimitPolicy, patch: Partial<LimitPolicy>): LimitPolicy {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch) as Array<
    [keyof LimitPolicy, LimitPolicy[keyof LimitPolicy] | undefined]
  >) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
