/**
 * What alert rules watch, and the pure decisions of evaluation: when an observation crosses a rule's
 * threshold, and which transitions (ok → firing, firing → ok) an evaluation round makes. No I/O here.
 */

export const RULE_KINDS = [
  'channel_down',
  'error_rate',
  'latency_p95',
  'budget',
  'balance',
  'spend_spike',
  'usage_backlog',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** What `threshold` means for each kind (docs and the console say the same). */
export const THRESHOLD_UNIT: Record<RuleKind, string> = {
  channel_down: 'unused',
  error_rate: 'percent of requests that failed',
  latency_p95: 'milliseconds',
  budget: 'percent of the budget spent',
  balance: 'micro-units of the instance currency',
  spend_spike: 'percent more spend than the previous window',
  usage_backlog: 'request-log rows waiting to be written',
};

/** Kinds that read a time window of the request log. */
export const WINDOWED: ReadonlySet<RuleKind> = new Set(['error_rate', 'latency_p95', 'spend_spike']);

export function isRuleKind(value: string): value is RuleKind {
  return (RULE_KINDS as readonly string[]).includes(value);
}

/** One thing a rule watches, as measured now. `breached` decides firing; `value` is reported. */
export interface Observation {
  subject: string;
  /** A readable name of the subject (channel or organization name). */
  subjectName: string | null;
  value: number | null;
  breached: boolean;
  organizationId: string | null;
}

/** The p-th percentile (0–100) by nearest rank of `values`; null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

/**
 * Whether the spend of this window is a spike against the previous one: at least `minSpend`, and more than
 * `percent` % above the previous window's (a window after one without spend is a spike once it reaches `minSpend`).
 *
 * @example
 * isSpendSpike(3_000, 1_000, 100, 0) // true: +200 % against +100 % allowed
 * isSpendSpike(1_500, 1_000, 100, 0) // false
 */
export function isSpendSpike(current: number, previous: number, percent: number, minSpend: number): boolean {
  if (current < minSpend || current <= 0) return false;
  if (previous <= 0) return true;
  return ((current - previous) / previous) * 100 > percent;
}

/** How much more the current window spent than the previous, in percent (null without previous spend). */
export function spendIncrease(current: number, previous: number): number | null {
  return previous > 0 ? Math.round(((current - previous) / previous) * 1000) / 10 : null;
}

export interface StoredState {
  subject: string;
  state: 'firing' | 'ok';
}

export interface Transition {
  subject: string;
  to: 'firing' | 'resolved';
  observation: Observation | undefined;
}

/**
 * The transitions of one evaluation round: a breached subject that is not firing fires; a firing subject that
 * is no longer breached (or no longer exists: a deleted channel) resolves. Nothing else: once per crossing.
 *
 * @example
 * transitions([{ subject: 'a', state: 'ok' }], [{ subject: 'a', breached: true, ... }]) // [{ subject: 'a', to: 'firing' }]
 */
export function transitions(stored: readonly StoredState[], observed: readonly Observation[]): Transition[] {
  const firing = new Set(stored.filter((s) => s.state === 'firing').map((s) => s.subject));
  const out: Transition[] = [];
  const seen = new Set<string>();
  for (const observation of observed) {
    seen.add(observation.subject);
    if (observation.breached && !firing.has(observation.subject))
      out.push({ subject: observation.subject, to: 'firing', observation });
    else if (!observation.breached && firing.has(observation.subject))
      out.push({ subject: observation.subject, to: 'resolved', observation });
  }
  for (const subject of firing) if (!seen.has(subject)) out.push({ subject, to: 'resolved', observation: undefined });
  return out;
}

export interface RuleFacts {
  name: string;
  kind: RuleKind;
  threshold: number;
  windowMinutes: number;
}

/** The one-line text of an alert (Slack, mail subject, history). */
export function alertMessage(
  rule: RuleFacts,
  state: 'firing' | 'resolved',
  subject: string,
  value: number | null,
  currency = 'USD',
): string {
  const head = `${state === 'firing' ? 'FIRING' : 'RESOLVED'}: ${rule.name}`;
  const what = describe(rule, subject, value, currency);
  return `${head} — ${what}`;
}

function describe(rule: RuleFacts, subject: string, value: number | null, currency: string): string {
  const v = value === null ? 'n/a' : String(value);
  const w = `${rule.windowMinutes} min`;
  switch (rule.kind) {
    case 'channel_down':
      return `channel ${subject} is ${value === 1 ? 'down' : 'up'}`;
    case 'error_rate':
      return `error rate ${v} % over ${w} (threshold ${rule.threshold} %)`;
    case 'latency_p95':
      return `p95 latency ${v} ms over ${w} (threshold ${rule.threshold} ms)`;
    case 'budget':
      return `organization ${subject} spent ${v} % of its budget (threshold ${rule.threshold} %)`;
    case 'balance':
      return `organization ${subject} balance ${money(value, currency)} (threshold ${money(rule.threshold, currency)})`;
    case 'spend_spike':
      return `spend ${value === null ? 'up' : `+${v} %`} over ${w} against the ${w} before (threshold +${rule.threshold} %)`;
    case 'usage_backlog':
      return `${v} request-log rows waiting to be written on ${subject} (threshold ${rule.threshold})`;
  }
}

function money(micros: number | null, currency: string): string {
  return micros === null ? 'n/a' : `${(micros / 1_000_000).toFixed(2)} ${currency}`;
}
