import type { paths } from '@/api/schema';

type LimitsGet = paths['/api/admin/limits/{scope}/{id}']['get']['responses'][200]['content']['application/json'];

/** A full limit policy as the editor holds it (null = no limit). */
export type LimitValues = LimitsGet['limits'];
/** What the limits GET reports as used in the current periods. */
export type LimitUsage = LimitsGet['usage'];
export type LimitPeriod = LimitValues['budgetPeriod'];
export type LimitPatch = Partial<LimitValues>;

export const LIMIT_KEYS = [
  'budgetMicros',
  'budgetPeriod',
  'tokenQuota',
  'tokenQuotaPeriod',
  'rpm',
  'tpm',
  'maxConcurrency',
] as const satisfies ReadonlyArray<keyof LimitValues>;

/** A full policy from a partial one (settings defaults omit fields; omitted = no limit / monthly). */
export function fullLimits(partial: LimitPatch | null | undefined): LimitValues {
  return {
    budgetMicros: partial?.budgetMicros ?? null,
    budgetPeriod: partial?.budgetPeriod ?? 'month',
    tokenQuota: partial?.tokenQuota ?? null,
    tokenQuotaPeriod: partial?.tokenQuotaPeriod ?? 'month',
    rpm: partial?.rpm ?? null,
    tpm: partial?.tpm ?? null,
    maxConcurrency: partial?.maxConcurrency ?? null,
  };
}

/** The fields of `next` that differ from `before` (for a PATCH that sends only changes). */
export function limitsDiff(before: LimitValues, next: LimitValues): LimitPatch {
  const out: Record<string, unknown> = {};
  for (const key of LIMIT_KEYS) if (before[key] !== next[key]) out[key] = next[key];
  return out as LimitPatch;
}
