import { type Kysely, sql } from 'kysely';
import type { Database, StatementsTable } from '../../infra/db/schema.js';
import type { LedgerSummary, UsageLine } from './content.js';

const DAY_MS = 86_400_000;

/** Statements, and the usage and ledger figures they are made of. Only data access, no rules. */
export class StatementRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Usage of an organization (or one of its teams) in [start, end): by model, team and key. */
  async usage(orgId: string, teamId: string | null, start: number, end: number): Promise<UsageLine[]> {
    let query = this.db
      .selectFrom('request_logs')
      .leftJoin('teams', 'teams.id', 'request_logs.team_id')
      .leftJoin('api_keys', 'api_keys.id', 'request_logs.key_id')
      .select((eb) => [
        'request_logs.model',
        'request_logs.team_id',
        'request_logs.key_id',
        eb.fn.max('teams.name').as('team_name'),
        eb.fn.max('api_keys.name').as('key_name'),
        eb.fn.countAll<number>().as('requests'),
        eb.fn.sum<number>('request_logs.prompt_tokens').as('input_tokens'),
        eb.fn.sum<number>('request_logs.completion_tokens').as('output_tokens'),
        eb.fn.sum<number>('request_logs.price_micros').as('amount'),
      ])
      .where('request_logs.org_id', '=', orgId)
      .where('request_logs.at', '>=', start)
      .where('request_logs.at', '<', end);
    if (teamId !== null) query = query.where('request_logs.team_id', '=', teamId);
    const rows = await query
      .groupBy(['request_logs.model', 'request_logs.team_id', 'request_logs.key_id'])
      .orderBy('request_logs.model')
      .orderBy('request_logs.team_id')
      .orderBy('request_logs.key_id')
      .execute();
    return rows.map((r) => ({
      model: r.model,
      teamId: r.team_id,
      teamName: (r.team_name as string | null) ?? null,
      keyId: r.key_id,
      keyName: (r.key_name as string | null) ?? null,
      requests: Number(r.requests),
      inputTokens: Number(r.input_tokens ?? 0),
      outputTokens: Number(r.output_tokens ?? 0),
      amountMicros: Number(r.amount ?? 0),
    }));
  }

  /** An organization's ledger movements in [start, end), and its balance at both ends. */
  async ledger(orgId: string, start: number, end: number): Promise<LedgerSummary> {
    const balanceBefore = async (at: number): Promise<number> => {
      const row = await this.db
        .selectFrom('wallet_transactions')
        .select('balance_after_micros')
        .where('org_id', '=', orgId)
        .where('created_at', '<', at)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return Number(row?.balance_after_micros ?? 0);
    };
    const sums = await this.db
      .selectFrom('wallet_transactions')
      .select((eb) => [
        'kind',
        sql<number>`case when amount_micros >= 0 then 1 else 0 end`.as('credit'),
        eb.fn.sum<number>('amount_micros').as('total'),
      ])
      .where('org_id', '=', orgId)
      .where('created_at', '>=', start)
      .where('created_at', '<', end)
      .groupBy(['kind', sql`case when amount_micros >= 0 then 1 else 0 end`])
      .execute();
    const summary: LedgerSummary = {
      openingBalanceMicros: await balanceBefore(start),
      closingBalanceMicros: await balanceBefore(end),
      topUpsMicros: 0,
      creditsMicros: 0,
      debitsMicros: 0,
      usageChargedMicros: 0,
    };
    for (const s of sums) {
      const total = Number(s.total ?? 0);
      if (s.kind === 'top_up' || s.kind === 'redemption' || s.kind === 'subscription_grant')
        summary.topUpsMicros += total;
      else if (s.kind === 'usage') summary.usageChargedMicros += total;
      else if (Number(s.credit) === 1) summary.creditsMicros += total;
      else summary.debitsMicros += total;
    }
    return summary;
  }

  /** Organizations (and their teams) with usage or ledger entries in [start, end). */
  async active(
    start: number,
    end: number,
    orgId?: string,
  ): Promise<{ orgs: string[]; teams: Array<{ orgId: string; teamId: string }> }> {
    let usage = this.db
      .selectFrom('request_logs')
      .select(['org_id', 'team_id'])
      .where('at', '>=', start)
      .where('at', '<', end)
      .where('org_id', 'is not', null)
      .groupBy(['org_id', 'team_id']);
    let ledger = this.db
      .selectFrom('wallet_transactions')
      .select('org_id')
      .where('created_at', '>=', start)
      .where('created_at', '<', end)
      .groupBy('org_id');
    if (orgId !== undefined) {
      usage = usage.where('org_id', '=', orgId);
      ledger = ledger.where('org_id', '=', orgId);
    }
    const [u, l] = await Promise.all([usage.execute(), ledger.execute()]);
    const orgs = new Set<string>([...u.map((r) => r.org_id as string), ...l.map((r) => r.org_id)]);
    const teams = u
      .filter((r) => r.team_id !== null)
      .map((r) => ({ orgId: r.org_id as string, teamId: r.team_id as string }));
    return { orgs: [...orgs].sort(), teams };
  }

  organization(idOrSlug: string): Promise<{ id: string; name: string } | undefined> {
    return this.db
      .selectFrom('organizations')
      .select(['id', 'name'])
      .where((eb) => eb.or([eb('id', '=', idOrSlug), eb('slug', '=', idOrSlug)]))
      .executeTakeFirst();
  }

  allOrganizations(): Promise<Array<{ id: string }>> {
    return this.db.selectFrom('organizations').select('id').orderBy('id').execute();
  }

  team(orgId: string, teamId: string): Promise<{ id: string; name: string } | undefined> {
    return this.db
      .selectFrom('teams')
      .select(['id', 'name'])
      .where('id', '=', teamId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
  }

  byUniqueKey(key: string): Promise<StatementsTable | undefined> {
    return this.db.selectFrom('statements').selectAll().where('unique_key', '=', key).executeTakeFirst();
  }

  /** One document; with `orgId`, only that organization's (tenant scope). */
  get(id: string, orgId: string | null): Promise<StatementsTable | undefined> {
    let query = this.db.selectFrom('statements').selectAll().where('id', '=', id);
    if (orgId !== null) query = query.where('org_id', '=', orgId);
    return query.executeTakeFirst();
  }

  /** Documents newest first; `orgId` null = every organization's (platform admins). */
  list(filter: {
    orgId: string | null;
    period?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<StatementsTable[]> {
    let query = this.db.selectFrom('statements').selectAll();
    if (filter.orgId !== null) query = query.where('org_id', '=', filter.orgId);
    if (filter.period !== undefined) query = query.where('period', '=', filter.period);
    return query.orderBy('seq', 'desc').limit(filter.limit).offset(filter.offset).execute();
  }

  /**
   * Write a document with the next number of the instance: the sequence is the largest so far plus one,
   * in the same transaction; two writers that pick the same one collide on the unique `seq`, and the
   * caller tries again.
   */
  async insertNumbered(
    row: Omit<StatementsTable, 'seq' | 'number'>,
    number: (seq: number) => string,
  ): Promise<StatementsTable> {
    return this.db.transaction().execute(async (trx) => {
      const last = await trx
        .selectFrom('statements')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .executeTakeFirst();
      const seq = Number(last?.seq ?? 0) + 1;
      const full: StatementsTable = { ...row, seq, number: number(seq) };
      await trx.insertInto('statements').values(full).execute();
      return full;
    });
  }

  /**
   * List price, cost and requests per UTC day in [start, end) over every organization (or one): one grouped
   * scan of the request-log index on `at`.
   */
  async revenueByDay(
    start: number,
    end: number,
    orgId: string | null,
  ): Promise<Array<{ day: number; requests: number; price: number; cost: number }>> {
    const day = sql<number>`(${sql.ref('at')} / ${sql.lit(DAY_MS)})`;
    let query = this.db
      .selectFrom('request_logs')
      .select((eb) => [
        day.as('day'),
        eb.fn.countAll<number>().as('requests'),
        eb.fn.sum<number>('price_micros').as('price'),
        eb.fn.sum<number>('cost_micros').as('cost'),
      ])
      .where('at', '>=', start)
      .where('at', '<', end);
    if (orgId !== null) query = query.where('org_id', '=', orgId);
    const rows = await query.groupBy(day).orderBy(day).execute();
    return rows.map((r) => ({
      day: Number(r.day) * DAY_MS,
      requests: Number(r.requests),
      price: Number(r.price ?? 0),
      cost: Number(r.cost ?? 0),
    }));
  }
}
