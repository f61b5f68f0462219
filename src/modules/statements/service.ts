import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { StatementKind, StatementsTable } from '../../infra/db/schema.js';
import {
  documentNumber,
  type Period,
  parsePeriod,
  previousPeriod,
  type StatementContent,
  statementCsv,
} from './content.js';
import { statementPdf } from './pdf.js';
import type { StatementRepository } from './repository.js';

/** A document as the API lists it (its content is in `GET …/statements/{id}`). */
export interface StatementView {
  id: string;
  number: string;
  orgId: string;
  teamId: string | null;
  kind: StatementKind;
  period: string;
  periodStart: number;
  periodEnd: number;
  currency: string;
  totalMicros: number;
  correctsId: string | null;
  reason: string | null;
  issuedAt: number;
}

export interface StatementSettings {
  currency: string;
  operatorName: string;
  operatorAddress: string;
  /** A `data:image/png|jpeg;base64,` URL, or empty. */
  operatorLogo: string;
  teamStatements: boolean;
}

export interface StatementServiceDeps {
  repo: StatementRepository;
  clock: Clock;
  newId: IdGenerator;
  settings: () => StatementSettings;
  /** Write pending request rows and usage charges before figures are read. */
  flush: () => Promise<void>;
}

/** What one run issued: new documents, and those that existed already (a run is idempotent). */
export interface RunResult {
  period: string;
  issued: string[];
  existing: string[];
}

function toView(row: StatementsTable): StatementView {
  return {
    id: row.id,
    number: row.number,
    orgId: row.org_id,
    teamId: row.team_id,
    kind: row.kind,
    period: row.period,
    periodStart: Number(row.period_start),
    periodEnd: Number(row.period_end),
    currency: row.currency,
    totalMicros: Number(row.total_micros),
    correctsId: row.corrects_id,
    reason: row.reason,
    issuedAt: Number(row.issued_at),
  };
}

/**
 * Statements: one per organization (and, with the `teamStatements` setting, per team) and month, numbered
 * in one sequence for the instance and never changed once issued. A correction is a new document — a credit
 * note, or a corrected statement recomputed from the data as it is now — that names the original.
 */
export class StatementService {
  constructor(private readonly deps: StatementServiceDeps) {}

  period(period: string | undefined): Period {
    if (period === undefined) return previousPeriod(this.deps.clock.now());
    const parsed = parsePeriod(period);
    if (!parsed) throw new ApiError('validation_failed', 'period must be a month, YYYY-MM', { param: 'period' });
    if (parsed.end > this.deps.clock.now())
      throw new ApiError('validation_failed', `period ${period} has not ended yet`, { param: 'period' });
    return parsed;
  }

  /**
   * Issue the statements of a month (the previous one by default) for every organization with usage or
   * ledger entries in it — or for one organization, even without any. Existing ones are kept.
   */
  async run(options: {
    period?: string | undefined;
    orgId?: string | undefined;
    actor?: string | null;
  }): Promise<RunResult> {
    const period = this.period(options.period);
    await this.deps.flush();
    let orgId: string | undefined;
    if (options.orgId !== undefined) {
      const org = await this.deps.repo.organization(options.orgId);
      if (!org) throw notFound('Organization');
      orgId = org.id;
    }
    const active = await this.deps.repo.active(period.start, period.end, orgId);
    const orgs = orgId !== undefined ? [orgId] : active.orgs;
    const result: RunResult = { period: period.period, issued: [], existing: [] };
    const note = (outcome: { row: StatementsTable; created: boolean }) =>
      (outcome.created ? result.issued : result.existing).push(outcome.row.number);
    for (const org of orgs) note(await this.issue(org, null, period, options.actor ?? null));
    if (this.deps.settings().teamStatements)
      for (const t of active.teams) note(await this.issue(t.orgId, t.teamId, period, options.actor ?? null));
    return result;
  }

  /** The regular statement of an organization (or team) for a period: issued once, found after. */
  async issue(
    orgId: string,
    teamId: string | null,
    period: Period,
    actor: string | null,
  ): Promise<{ row: StatementsTable; created: boolean }> {
    const uniqueKey = `${orgId}:${teamId ?? '-'}:${period.period}`;
    const seen = await this.deps.repo.byUniqueKey(uniqueKey);
    if (seen) return { row: seen, created: false };
    const content = await this.compose(orgId, teamId, period);
    try {
      const row = await this.write({
        orgId,
        teamId,
        kind: 'statement',
        period,
        content,
        total: content.usageTotalMicros,
        correctsId: null,
        reason: null,
        uniqueKey,
        actor,
      });
      return { row, created: true };
    } catch (error) {
      // Another run issued it at the same moment: theirs stands.
      const raced = await this.deps.repo.byUniqueKey(uniqueKey);
      if (raced) return { row: raced, created: false };
      throw error;
    }
  }

  /** A corrected statement: the original's organization, team and period, recomputed from today's data. */
  async reissue(id: string, reason: string, actor: string | null): Promise<StatementView> {
    const original = await this.original(id, reason);
    if (original.kind === 'credit_note')
      throw new ApiError('conflict', 'A credit note cannot be corrected: issue another credit note');
    await this.deps.flush();
    const period = parsePeriod(original.period) as Period;
    const content = await this.compose(original.org_id, original.team_id, period);
    return toView(
      await this.write({
        orgId: original.org_id,
        teamId: original.team_id,
        kind: 'corrected',
        period,
        content,
        total: content.usageTotalMicros,
        correctsId: original.id,
        reason: reason.trim(),
        uniqueKey: null,
        actor,
      }),
    );
  }

  /** A credit note of `amountMicros` against a document (its total is negative). */
  async creditNote(id: string, amountMicros: number, reason: string, actor: string | null): Promise<StatementView> {
    const original = await this.original(id, reason);
    if (!Number.isSafeInteger(amountMicros) || amountMicros <= 0)
      throw new ApiError('validation_failed', 'body.amountMicros must be a positive integer', {
        param: 'amountMicros',
      });
    if (amountMicros > Number(original.total_micros))
      throw new ApiError('validation_failed', "body.amountMicros must not exceed the original document's total", {
        param: 'amountMicros',
      });
    const before = JSON.parse(original.content) as StatementContent;
    const content: StatementContent = {
      ...before,
      operator: this.operator(),
      usage: [],
      usageTotalMicros: 0,
      ledger: null,
      creditMicros: amountMicros,
    };
    return toView(
      await this.write({
        orgId: original.org_id,
        teamId: original.team_id,
        kind: 'credit_note',
        period: parsePeriod(original.period) as Period,
        content,
        total: -amountMicros,
        correctsId: original.id,
        reason: reason.trim(),
        uniqueKey: null,
        actor,
      }),
    );
  }

  async list(filter: {
    orgId: string | null;
    period?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<StatementView[]> {
    return (await this.deps.repo.list(filter)).map(toView);
  }

  /** A document with its content; `orgId` scopes it to one organization (null: platform admins). */
  async get(
    id: string,
    orgId: string | null,
  ): Promise<StatementView & { content: StatementContent; correctsNumber: string | null }> {
    const row = await this.deps.repo.get(id, orgId);
    if (!row) throw notFound('Statement');
    const corrects = row.corrects_id ? await this.deps.repo.get(row.corrects_id, row.org_id) : undefined;
    return {
      ...toView(row),
      content: JSON.parse(row.content) as StatementContent,
      correctsNumber: corrects?.number ?? null,
    };
  }

  async csv(id: string, orgId: string | null): Promise<{ number: string; body: string }> {
    const doc = await this.get(id, orgId);
    return { number: doc.number, body: statementCsv({ ...doc, kind: doc.kind }, doc.content) };
  }

  async pdf(id: string, orgId: string | null): Promise<{ number: string; body: Buffer }> {
    const doc = await this.get(id, orgId);
    return { number: doc.number, body: await statementPdf(doc, doc.content, this.deps.settings().operatorLogo) };
  }

  /** List price, cost and margin per day or month in [from, to). */
  async revenue(from: number, to: number, interval: 'day' | 'month', orgId: string | null) {
    if (!(to > from)) throw new ApiError('validation_failed', 'to must be after from', { param: 'to' });
    if (to - from > 3 * 366 * 86_400_000)
      throw new ApiError('validation_failed', 'from and to may be at most three years apart', { param: 'from' });
    await this.deps.flush();
    const days = await this.deps.repo.revenueByDay(from, to, orgId);
    const buckets = new Map<number, { at: number; requests: number; priceMicros: number; costMicros: number }>();
    for (const d of days) {
      const date = new Date(d.day);
      const at = interval === 'day' ? d.day : Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
      const b = buckets.get(at) ?? { at, requests: 0, priceMicros: 0, costMicros: 0 };
      b.requests += d.requests;
      b.priceMicros += d.price;
      b.costMicros += d.cost;
      buckets.set(at, b);
    }
    const data = [...buckets.values()].map((b) => ({ ...b, marginMicros: b.priceMicros - b.costMicros }));
    const sum = (k: 'requests' | 'priceMicros' | 'costMicros') => data.reduce((n, b) => n + b[k], 0);
    const priceMicros = sum('priceMicros');
    const costMicros = sum('costMicros');
    return {
      currency: this.deps.settings().currency,
      interval,
      data,
      totals: { requests: sum('requests'), priceMicros, costMicros, marginMicros: priceMicros - costMicros },
    };
  }

  private async original(id: string, reason: string): Promise<StatementsTable> {
    if (reason.trim() === '') throw new ApiError('validation_failed', 'body.reason is required', { param: 'reason' });
    const row = await this.deps.repo.get(id, null);
    if (!row) throw notFound('Statement');
    return row;
  }

  private operator(): StatementContent['operator'] {
    const s = this.deps.settings();
    return { name: s.operatorName, address: s.operatorAddress };
  }

  private async compose(orgId: string, teamId: string | null, period: Period): Promise<StatementContent> {
    const org = await this.deps.repo.organization(orgId);
    if (!org) throw notFound('Organization');
    const team = teamId === null ? undefined : await this.deps.repo.team(orgId, teamId);
    const usage = await this.deps.repo.usage(orgId, teamId, period.start, period.end);
    return {
      operator: this.operator(),
      customer: { orgId, name: org.name, teamId, teamName: team?.name ?? null },
      currency: this.deps.settings().currency,
      usage,
      usageTotalMicros: usage.reduce((n, l) => n + l.amountMicros, 0),
      ledger: teamId === null ? await this.deps.repo.ledger(orgId, period.start, period.end) : null,
    };
  }

  /** Write a document under the next number (a collision on the number tries the next one). */
  private async write(d: {
    orgId: string;
    teamId: string | null;
    kind: StatementKind;
    period: Period;
    content: StatementContent;
    total: number;
    correctsId: string | null;
    reason: string | null;
    uniqueKey: string | null;
    actor: string | null;
  }): Promise<StatementsTable> {
    const issuedAt = this.deps.clock.now();
    const row = {
      id: this.deps.newId('stm'),
      org_id: d.orgId,
      team_id: d.teamId,
      kind: d.kind,
      period: d.period.period,
      period_start: d.period.start,
      period_end: d.period.end,
      currency: d.content.currency,
      total_micros: d.total,
      corrects_id: d.correctsId,
      reason: d.reason,
      content: JSON.stringify(d.content),
      unique_key: d.uniqueKey,
      issued_by: d.actor,
      issued_at: issuedAt,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.repo.insertNumbered(row, (seq) => documentNumber(seq, issuedAt));
      } catch (error) {
        if (attempt >= 5 || (d.uniqueKey !== null && (await this.deps.repo.byUniqueKey(d.uniqueKey)))) throw error;
      }
    }
  }
}
