import type { Static } from '@sinclair/typebox';
import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { randomSecret, type SecretBox } from '../../core/secrets.js';
import type { AlertDestinationsTable, AlertEventsTable, AlertRulesTable } from '../../infra/db/schema.js';
import { type DeliveryDeps, deliver } from './delivery.js';
import { parseIds } from './evaluator.js';
import type { AlertsRepository, EventQuery } from './repository.js';
import { isRuleKind, type RuleKind } from './rules.js';
import type {
  AlertDestinationCreateBody,
  AlertDestinationPatchBody,
  AlertDestinationSchema,
  AlertEventSchema,
  AlertRuleCreateBody,
  AlertRulePatchBody,
  AlertRuleSchema,
} from './schema.js';

export type AlertRule = Static<typeof AlertRuleSchema>;
export type AlertDestination = Static<typeof AlertDestinationSchema>;
export type AlertEvent = Static<typeof AlertEventSchema>;
type RuleInput = Static<typeof AlertRuleCreateBody>;
type RulePatch = Static<typeof AlertRulePatchBody>;
type DestinationInput = Static<typeof AlertDestinationCreateBody>;
type DestinationPatch = Static<typeof AlertDestinationPatchBody>;

const ORG_KINDS: ReadonlySet<RuleKind> = new Set(['budget', 'balance', 'spend_spike']);
const CHANNEL_KINDS: ReadonlySet<RuleKind> = new Set(['channel_down', 'error_rate', 'latency_p95']);
const DEFAULT_MIN_SAMPLES: Partial<Record<RuleKind, number>> = { error_rate: 10, latency_p95: 10 };

export interface AlertsServiceDeps {
  repo: AlertsRepository;
  secrets: SecretBox;
  clock: Clock;
  newId: IdGenerator;
  delivery: DeliveryDeps;
}

const invalid = (param: string, message: string) =>
  new ApiError('validation_failed', `${param}: ${message}`, { param });

/** Alert rules, destinations and history: validation, secrets sealed at rest, responses without them. */
export class AlertsService {
  constructor(private readonly deps: AlertsServiceDeps) {}

  async listRules(): Promise<AlertRule[]> {
    const [rows, firing] = await Promise.all([this.deps.repo.listRules(), this.deps.repo.firingCounts()]);
    return rows.map((r) => ruleResponse(r, firing.get(r.id) ?? 0));
  }

  async getRule(id: string): Promise<AlertRule> {
    const row = await this.deps.repo.findRule(id);
    if (!row) throw notFound('Alert rule');
    return ruleResponse(row, (await this.deps.repo.firingCounts()).get(id) ?? 0);
  }

  async createRule(input: RuleInput, createdBy: string | null): Promise<AlertRule> {
    const kind = input.kind;
    const now = this.deps.clock.now();
    const row: AlertRulesTable = {
      id: this.deps.newId('alr'),
      name: input.name.trim(),
      kind,
      threshold: input.threshold ?? 0,
      window_minutes: input.windowMinutes ?? 5,
      min_samples: input.minSamples ?? DEFAULT_MIN_SAMPLES[kind] ?? 0,
      organization_id: input.organizationId ?? null,
      channel_id: input.channelId ?? null,
      destination_ids: JSON.stringify(input.destinationIds ?? []),
      enabled: input.enabled === false ? 0 : 1,
      created_by: createdBy,
      created_at: now,
      updated_at: now,
    };
    if (input.threshold === undefined && kind !== 'channel_down')
      throw invalid('threshold', `a ${kind} rule needs a threshold`);
    await this.validateRule(row, kind);
    await this.deps.repo.insertRule(row);
    return ruleResponse(row, 0);
  }

  async updateRule(id: string, patch: RulePatch): Promise<AlertRule> {
    const row = await this.deps.repo.findRule(id);
    if (!row) throw notFound('Alert rule');
    if (!isRuleKind(row.kind)) throw new ApiError('conflict', `Unknown rule kind ${row.kind}`);
    const next: AlertRulesTable = {
      ...row,
      name: patch.name?.trim() ?? row.name,
      threshold: patch.threshold ?? row.threshold,
      window_minutes: patch.windowMinutes ?? row.window_minutes,
      min_samples: patch.minSamples ?? row.min_samples,
      organization_id: patch.organizationId !== undefined ? patch.organizationId : row.organization_id,
      channel_id: patch.channelId !== undefined ? patch.channelId : row.channel_id,
      destination_ids: patch.destinationIds ? JSON.stringify(patch.destinationIds) : row.destination_ids,
      enabled: patch.enabled === undefined ? row.enabled : patch.enabled ? 1 : 0,
      updated_at: this.deps.clock.now(),
    };
    await this.validateRule(next, row.kind);
    await this.deps.repo.updateRule(id, next);
    // A disabled rule, or one that now watches something else, starts again from "ok": nothing stays firing.
    const scopeChanged = next.organization_id !== row.organization_id || next.channel_id !== row.channel_id;
    if (!next.enabled || scopeChanged) await this.deps.repo.resetStates(id);
    return this.getRule(id);
  }

  async deleteRule(id: string): Promise<void> {
    if (!(await this.deps.repo.deleteRule(id))) throw notFound('Alert rule');
  }

  private async validateRule(row: AlertRulesTable, kind: RuleKind): Promise<void> {
    if (!row.name) throw invalid('name', 'must not be empty');
    if (kind === 'error_rate' && row.threshold > 100) throw invalid('threshold', 'an error rate is at most 100 (%)');
    if (row.organization_id !== null) {
      if (!ORG_KINDS.has(kind)) throw invalid('organizationId', `a ${kind} rule is not about one organization`);
      if (!(await this.deps.repo.orgExists(row.organization_id)))
        throw invalid('organizationId', 'no such organization');
    }
    if (row.channel_id !== null) {
      if (!CHANNEL_KINDS.has(kind)) throw invalid('channelId', `a ${kind} rule is not about one channel`);
      if (!(await this.deps.repo.channelExists(row.channel_id))) throw invalid('channelId', 'no such channel');
    }
    const known = new Set((await this.deps.repo.listDestinations()).map((d) => d.id));
    for (const id of parseIds(row.destination_ids))
      if (!known.has(id)) throw invalid('destinationIds', `no alert destination ${id}`);
  }

  async listDestinations(): Promise<AlertDestination[]> {
    return (await this.deps.repo.listDestinations()).map(destinationResponse);
  }

  /** Add a destination; a webhook without a secret gets a generated one, returned this once. */
  async createDestination(input: DestinationInput): Promise<AlertDestination & { secret?: string }> {
    const now = this.deps.clock.now();
    const row: AlertDestinationsTable = {
      id: this.deps.newId('ald'),
      name: input.name.trim(),
      kind: input.kind,
      target: '',
      secret: null,
      enabled: input.enabled === false ? 0 : 1,
      created_at: now,
      updated_at: now,
    };
    let shownSecret: string | undefined;
    switch (input.kind) {
      case 'webhook': {
        row.target = httpUrl(input.url, 'url');
        shownSecret = input.secret ?? `whsec_${randomSecret(24)}`;
        row.secret = this.deps.secrets.encrypt(shownSecret);
        if (input.emails) throw invalid('emails', 'only for an email destination');
        break;
      }
      case 'slack': {
        const url = httpUrl(input.url, 'url');
        row.target = new URL(url).host;
        row.secret = this.deps.secrets.encrypt(url);
        if (input.secret || input.emails) throw invalid('secret', 'a Slack destination takes only a url');
        break;
      }
      case 'email': {
        if (!input.emails) throw invalid('emails', 'an email destination needs at least one address');
        if (input.url || input.secret) throw invalid('url', 'an email destination takes only emails');
        row.target = input.emails.map((e) => e.trim().toLowerCase()).join(',');
        break;
      }
    }
    await this.deps.repo.insertDestination(row);
    const response = destinationResponse(row);
    return shownSecret && !input.secret ? { ...response, secret: shownSecret } : response;
  }

  async updateDestination(id: string, patch: DestinationPatch): Promise<AlertDestination> {
    const row = await this.deps.repo.findDestination(id);
    if (!row) throw notFound('Alert destination');
    const next: AlertDestinationsTable = { ...row, updated_at: this.deps.clock.now() };
    if (patch.name !== undefined) next.name = patch.name.trim();
    if (patch.enabled !== undefined) next.enabled = patch.enabled ? 1 : 0;
    if (patch.url !== undefined) {
      if (row.kind === 'email') throw invalid('url', 'an email destination takes only emails');
      const url = httpUrl(patch.url, 'url');
      if (row.kind === 'webhook') next.target = url;
      else {
        next.target = new URL(url).host;
        next.secret = this.deps.secrets.encrypt(url);
      }
    }
    if (patch.secret !== undefined) {
      if (row.kind !== 'webhook') throw invalid('secret', 'only a webhook has a signing secret');
      next.secret = this.deps.secrets.encrypt(patch.secret);
    }
    if (patch.emails !== undefined) {
      if (row.kind !== 'email') throw invalid('emails', 'only for an email destination');
      next.target = patch.emails.map((e) => e.trim().toLowerCase()).join(',');
    }
    await this.deps.repo.updateDestination(id, next);
    return destinationResponse(next);
  }

  /** Delete a destination (409 while a rule still sends to it). */
  async deleteDestination(id: string): Promise<void> {
    if (!(await this.deps.repo.findDestination(id))) throw notFound('Alert destination');
    const users = (await this.deps.repo.listRules()).filter((r) => parseIds(r.destination_ids).includes(id));
    if (users.length > 0)
      throw new ApiError(
        'conflict',
        `Rules still send to this destination: ${users.map((r) => r.name).join(', ')}; remove it from them first`,
      );
    await this.deps.repo.deleteDestination(id);
  }

  /** Send a test alert now (no retry): whether it arrived, and why not. */
  async sendTest(id: string): Promise<{ delivered: boolean; error: string | null }> {
    const destination = await this.deps.repo.findDestination(id);
    if (!destination) throw notFound('Alert destination');
    const now = this.deps.clock.now();
    const event: AlertEventsTable = {
      id: this.deps.newId('alev'),
      rule_id: 'test',
      rule_name: 'Test alert',
      kind: 'test',
      subject: 'test',
      subject_name: null,
      state: 'firing',
      value: null,
      threshold: 0,
      message: `Test alert from AI Hub to ${destination.name}`,
      organization_id: null,
      at: now,
    };
    try {
      await deliver(this.deps.delivery, destination, event, true);
      return { delivered: true, error: null };
    } catch (error) {
      return { delivered: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Deliver a stored event to a destination (the `alerts.deliver` job); throws to be retried. */
  async deliverEvent(eventId: string, destinationId: string): Promise<'sent' | 'skipped'> {
    const [event, destination] = await Promise.all([
      this.deps.repo.findEvent(eventId),
      this.deps.repo.findDestination(destinationId),
    ]);
    // Deleted or disabled since: nothing to send, and nothing to retry.
    if (!event || !destination?.enabled) return 'skipped';
    await deliver(this.deps.delivery, destination, event);
    return 'sent';
  }

  async listEvents(query: EventQuery): Promise<{ data: AlertEvent[]; total: number }> {
    const { rows, total } = await this.deps.repo.listEvents(query);
    return { data: rows.map(eventResponse), total };
  }
}

function httpUrl(value: string | undefined, param: string): string {
  if (!value) throw invalid(param, 'is required');
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw invalid(param, 'is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(param, 'must be an http(s) URL');
  return url.toString();
}

function ruleResponse(row: AlertRulesTable, firing: number): AlertRule {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as RuleKind,
    threshold: Number(row.threshold),
    windowMinutes: row.window_minutes,
    minSamples: Number(row.min_samples),
    organizationId: row.organization_id,
    channelId: row.channel_id,
    destinationIds: parseIds(row.destination_ids),
    enabled: row.enabled === 1,
    firing,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Never the secret: a webhook says whether it signs, a Slack destination shows its host only. */
function destinationResponse(row: AlertDestinationsTable): AlertDestination {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    target: row.target,
    hasSecret: row.kind === 'webhook' && row.secret !== null,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function eventResponse(row: AlertEventsTable): AlertEvent {
  return {
    id: row.id,
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    kind: row.kind,
    subject: row.subject,
    subjectName: row.subject_name,
    state: row.state,
    value: row.value === null ? null : Number(row.value),
    threshold: Number(row.threshold),
    message: row.message,
    organizationId: row.organization_id,
    at: row.at,
  };
}
