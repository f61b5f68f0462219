import type { Kysely } from 'kysely';
import type {
  AlertDestinationsTable,
  AlertEventsTable,
  AlertRulesTable,
  AlertStatesTable,
  Database,
} from '../../infra/db/schema.js';

export interface EventQuery {
  ruleId?: string | undefined;
  state?: 'firing' | 'resolved' | undefined;
  limit: number;
  offset: number;
}

/** Data access of alerts: rules, destinations, states and history (all platform-wide), and what rules read. */
export class AlertsRepository {
  constructor(readonly db: Kysely<Database>) {}

  listRules(): Promise<AlertRulesTable[]> {
    return this.db.selectFrom('alert_rules').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  findRule(id: string): Promise<AlertRulesTable | undefined> {
    return this.db.selectFrom('alert_rules').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insertRule(row: AlertRulesTable): Promise<void> {
    await this.db.insertInto('alert_rules').values(row).execute();
  }

  async updateRule(id: string, values: Partial<AlertRulesTable>): Promise<void> {
    await this.db.updateTable('alert_rules').set(values).where('id', '=', id).execute();
  }

  async deleteRule(id: string): Promise<boolean> {
    await this.db.deleteFrom('alert_states').where('rule_id', '=', id).execute();
    const result = await this.db.deleteFrom('alert_rules').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Forget a rule's states (its conditions changed: every subject is judged afresh). */
  async resetStates(ruleId: string): Promise<void> {
    await this.db.deleteFrom('alert_states').where('rule_id', '=', ruleId).execute();
  }

  listDestinations(): Promise<AlertDestinationsTable[]> {
    return this.db.selectFrom('alert_destinations').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  findDestination(id: string): Promise<AlertDestinationsTable | undefined> {
    return this.db.selectFrom('alert_destinations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insertDestination(row: AlertDestinationsTable): Promise<void> {
    await this.db.insertInto('alert_destinations').values(row).execute();
  }

  async updateDestination(id: string, values: Partial<AlertDestinationsTable>): Promise<void> {
    await this.db.updateTable('alert_destinations').set(values).where('id', '=', id).execute();
  }

  async deleteDestination(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('alert_destinations').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  states(ruleId: string): Promise<AlertStatesTable[]> {
    return this.db.selectFrom('alert_states').selectAll().where('rule_id', '=', ruleId).execute();
  }

  /** How many subjects fire per rule. */
  async firingCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('alert_states')
      .select((eb) => ['rule_id', eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'firing')
      .groupBy('rule_id')
      .execute();
    return new Map(rows.map((r) => [r.rule_id, Number(r.n)]));
  }

  /**
   * Move one rule × subject from `from` to `to`; true when this call made the move (another instance
   * evaluating at the same time finds it made, and sends nothing).
   */
  async transition(
    ruleId: string,
    subject: string,
    from: 'firing' | 'ok',
    to: 'firing' | 'ok',
    value: number | null,
    at: number,
  ): Promise<boolean> {
    if (from === 'ok')
      await this.db
        .insertInto('alert_states')
        .values({ rule_id: ruleId, subject, state: 'ok', value, since: at, updated_at: at })
        .onConflict((oc) => oc.columns(['rule_id', 'subject']).doNothing())
        .execute();
    const result = await this.db
      .updateTable('alert_states')
      .set({ state: to, value, since: at, updated_at: at })
      .where('rule_id', '=', ruleId)
      .where('subject', '=', subject)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async insertEvent(row: AlertEventsTable): Promise<void> {
    await this.db.insertInto('alert_events').values(row).execute();
  }

  findEvent(id: string): Promise<AlertEventsTable | undefined> {
    return this.db.selectFrom('alert_events').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listEvents(query: EventQuery): Promise<{ rows: AlertEventsTable[]; total: number }> {
    let base = this.db.selectFrom('alert_events');
    if (query.ruleId) base = base.where('rule_id', '=', query.ruleId);
    if (query.state) base = base.where('state', '=', query.state);
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).offset(query.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
    ]);
    return { rows, total: Number(count?.n ?? 0) };
  }

  // What rules read. Range queries on request_logs use its `at` index; they run in the evaluation job.

  /** Requests and server-side failures (status ≥ 500) since `from`, overall or of one channel. */
  async errorCounts(from: number, to: number, channelId: string | null): Promise<{ total: number; errors: number }> {
    let query = this.db
      .selectFrom('request_logs')
      .select((eb) => [
        eb.fn.countAll<number>().as('total'),
        eb.fn.sum<number>(eb.case().when('status', '>=', 500).then(1).else(0).end()).as('errors'),
      ])
      .where('at', '>=', from)
      .where('at', '<', to);
    if (channelId) query = query.where('channel_id', '=', channelId);
    const row = await query.executeTakeFirst();
    return { total: Number(row?.total ?? 0), errors: Number(row?.errors ?? 0) };
  }

  /** Latencies of the newest requests since `from` (at most `cap`). */
  async latencies(from: number, to: number, channelId: string | null, cap: number): Promise<number[]> {
    let query = this.db.selectFrom('request_logs').select('latency_ms').where('at', '>=', from).where('at', '<', to);
    if (channelId) query = query.where('channel_id', '=', channelId);
    const rows = await query.orderBy('at', 'desc').limit(cap).execute();
    return rows.map((r) => Number(r.latency_ms));
  }

  /** Upstream cost between `from` and `to` (of one organization, or all). */
  async spend(from: number, to: number, orgId: string | null): Promise<number> {
    let query = this.db
      .selectFrom('request_logs')
      .select((eb) => eb.fn.sum<number>('cost_micros').as('spend'))
      .where('at', '>=', from)
      .where('at', '<', to);
    if (orgId) query = query.where('org_id', '=', orgId);
    const row = await query.executeTakeFirst();
    return Number(row?.spend ?? 0);
  }

  channels(): Promise<Array<{ id: string; name: string; status: string; disabled_reason: string | null }>> {
    return this.db.selectFrom('channels').select(['id', 'name', 'status', 'disabled_reason']).execute();
  }

  /** Organizations with a budget of their own. */
  orgBudgets(): Promise<Array<{ id: string; name: string }>> {
    return this.db
      .selectFrom('limit_policies')
      .innerJoin('organizations', 'organizations.id', 'limit_policies.scope_id')
      .select(['organizations.id as id', 'organizations.name as name'])
      .where('limit_policies.scope_type', '=', 'org')
      .where('limit_policies.budget_micros', 'is not', null)
      .execute();
  }

  wallets(): Promise<Array<{ id: string; name: string; balance: number; mode: string }>> {
    return this.db
      .selectFrom('wallets')
      .innerJoin('organizations', 'organizations.id', 'wallets.org_id')
      .select([
        'organizations.id as id',
        'organizations.name as name',
        'wallets.balance_micros as balance',
        'wallets.billing_mode as mode',
      ])
      .execute();
  }

  async orgExists(id: string): Promise<boolean> {
    return (
      (await this.db.selectFrom('organizations').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
    );
  }

  async channelExists(id: string): Promise<boolean> {
    return (await this.db.selectFrom('channels').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }
}
