/**
 * One evaluation round (the `alerts.evaluate` job, every minute): each enabled rule observes its subjects
 * from cheap sources, the pure `transitions` decide what fires and what resolves, each transition is claimed
 * in the database (so two instances evaluating at once send it once), written to the history and handed to
 * `alerts.deliver` jobs, one per destination.
 */
import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import { AUTO_DISABLE_PREFIX } from '../../gateway/index.js';
import type { AlertEventsTable, AlertRulesTable } from '../../infra/db/schema.js';
import type { AlertsRepository } from './repository.js';
import {
  alertMessage,
  isRuleKind,
  isSpendSpike,
  type Observation,
  percentile,
  type RuleKind,
  spendIncrease,
  transitions,
} from './rules.js';

/** The most request latencies one p95 is computed from. */
const LATENCY_SAMPLE_CAP = 20_000;
const MINUTE_MS = 60_000;

export interface AlertSources {
  /** Whether a breaker of the channel is open on this instance (health is per instance). */
  breakerOpen(channelId: string): boolean;
  /** Spend and budget of an organization in its current budget period. */
  budgetOf(orgId: string): Promise<{ used: number; limit: number | null }>;
  /** Request-log rows this instance has not written yet. */
  backlog(): number;
  /** Write pending request-log rows first, so windows see the newest requests. */
  flushLog(): Promise<void>;
  currency(): string;
  /** Names this instance in usage-backlog alerts. */
  instance: string;
}

export interface EvaluatorDeps {
  repo: AlertsRepository;
  sources: AlertSources;
  clock: Clock;
  newId: IdGenerator;
  /** Queue the delivery of an event to a destination. */
  enqueueDelivery: (eventId: string, destinationId: string) => Promise<void>;
}

export class AlertEvaluator {
  constructor(private readonly deps: EvaluatorDeps) {}

  /** Evaluate every enabled rule once; returns the events written. */
  async evaluate(): Promise<AlertEventsTable[]> {
    const { repo } = this.deps;
    await this.deps.sources.flushLog().catch(() => undefined);
    const events: AlertEventsTable[] = [];
    for (const rule of await repo.listRules()) {
      if (!rule.enabled || !isRuleKind(rule.kind)) continue;
      const observed = await this.observe(rule, rule.kind);
      const stored = await repo.states(rule.id);
      for (const t of transitions(stored, observed)) {
        const now = this.deps.clock.now();
        const value = t.observation?.value ?? null;
        const claimed =
          t.to === 'firing'
            ? await repo.transition(rule.id, t.subject, 'ok', 'firing', value, now)
            : await repo.transition(rule.id, t.subject, 'firing', 'ok', value, now);
        if (!claimed) continue;
        const event = await this.record(rule, rule.kind, t.subject, t.to, t.observation);
        events.push(event);
      }
    }
    return events;
  }

  private async record(
    rule: AlertRulesTable,
    kind: RuleKind,
    subject: string,
    state: 'firing' | 'resolved',
    observation: Observation | undefined,
  ): Promise<AlertEventsTable> {
    const value = observation?.value ?? null;
    const subjectName = observation?.subjectName ?? null;
    const event: AlertEventsTable = {
      id: this.deps.newId('alev'),
      rule_id: rule.id,
      rule_name: rule.name,
      kind,
      subject,
      subject_name: subjectName,
      state,
      value,
      threshold: rule.threshold,
      message: alertMessage(
        { name: rule.name, kind, threshold: rule.threshold, windowMinutes: rule.window_minutes },
        state,
        subjectName ?? subject,
        kind === 'channel_down' ? (state === 'firing' ? 1 : 0) : value,
        this.deps.sources.currency(),
      ),
      organization_id: observation?.organizationId ?? rule.organization_id,
      at: this.deps.clock.now(),
    };
    await this.deps.repo.insertEvent(event);
    for (const destinationId of parseIds(rule.destination_ids))
      await this.deps.enqueueDelivery(event.id, destinationId);
    return event;
  }

  /** What the rule sees now, one observation per subject. */
  private async observe(rule: AlertRulesTable, kind: RuleKind): Promise<Observation[]> {
    const { repo, sources } = this.deps;
    const now = this.deps.clock.now();
    const from = now - rule.window_minutes * MINUTE_MS;
    // Windows are [from, to): a request logged this very millisecond counts.
    const to = now + 1;
    const all = (value: number | null, breached: boolean): Observation[] => [
      { subject: 'all', subjectName: null, value, breached, organizationId: null },
    ];
    switch (kind) {
      case 'channel_down': {
        const channels = (await repo.channels()).filter((c) => !rule.channel_id || c.id === rule.channel_id);
        return channels.map((c) => {
          const autoDisabled = c.status === 'disabled' && (c.disabled_reason ?? '').startsWith(AUTO_DISABLE_PREFIX);
          // A channel an admin disabled on purpose is not "down"; its breakers no longer matter.
          const down = autoDisabled || (c.status === 'active' && sources.breakerOpen(c.id));
          return { subject: c.id, subjectName: c.name, value: down ? 1 : 0, breached: down, organizationId: null };
        });
      }
      case 'error_rate': {
        const { total, errors } = await repo.errorCounts(from, to, rule.channel_id);
        if (total === 0 || total < rule.min_samples) return all(null, false);
        const rate = Math.round((errors / total) * 1000) / 10;
        return all(rate, rate > rule.threshold);
      }
      case 'latency_p95': {
        const latencies = await repo.latencies(from, to, rule.channel_id, LATENCY_SAMPLE_CAP);
        if (latencies.length === 0 || latencies.length < rule.min_samples) return all(null, false);
        const p95 = percentile(latencies, 95);
        return all(p95, p95 !== null && p95 > rule.threshold);
      }
      case 'spend_spike': {
        const window = rule.window_minutes * MINUTE_MS;
        const current = await repo.spend(from, to, rule.organization_id);
        const previous = await repo.spend(from - window, from, rule.organization_id);
        const breached = isSpendSpike(current, previous, rule.threshold, rule.min_samples);
        return [
          {
            subject: rule.organization_id ?? 'all',
            subjectName: null,
            value: spendIncrease(current, previous),
            breached,
            organizationId: rule.organization_id,
          },
        ];
      }
      case 'budget': {
        const orgs = (await repo.orgBudgets()).filter((o) => !rule.organization_id || o.id === rule.organization_id);
        const out: Observation[] = [];
        for (const org of orgs) {
          const { used, limit } = await sources.budgetOf(org.id);
          if (!limit) continue;
          const percent = Math.round((used / limit) * 1000) / 10;
          out.push({
            subject: org.id,
            subjectName: org.name,
            value: percent,
            breached: percent >= rule.threshold,
            organizationId: org.id,
          });
        }
        return out;
      }
      case 'balance': {
        const wallets = (await repo.wallets()).filter((w) =>
          rule.organization_id ? w.id === rule.organization_id : w.mode === 'prepaid',
        );
        return wallets.map((w) => ({
          subject: w.id,
          subjectName: w.name,
          value: Number(w.balance),
          breached: Number(w.balance) < rule.threshold,
          organizationId: w.id,
        }));
      }
      case 'usage_backlog': {
        const pending = sources.backlog();
        return [
          {
            // One subject: the instance that runs the job reports its own writer.
            subject: 'all',
            subjectName: sources.instance,
            value: pending,
            breached: pending > rule.threshold,
            organizationId: null,
          },
        ];
      }
    }
  }
}

export function parseIds(json: string): string[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}
