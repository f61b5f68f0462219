import type { Kysely } from 'kysely';
import type {
  BillingPlansTable,
  Database,
  OrgSubscriptionsTable,
  StripeEventsTable,
  StripeInvoicesTable,
} from '../../infra/db/schema.js';

/** The key of the console-stored Stripe configuration in `settings` (secrets sealed; not an instance setting). */
const CONFIG_KEY = 'stripe_payments';

/** Stripe customers, plans, subscriptions, processed events and invoices. Only data access, no rules. */
export class PaymentsRepository {
  constructor(readonly db: Kysely<Database>) {}

  async readConfig(): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', CONFIG_KEY).executeTakeFirst();
    return row?.value;
  }

  async writeConfig(json: string, at: number): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ key: CONFIG_KEY, value: json, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: json, updated_at: at }))
      .execute();
  }

  // Customers.

  async customerOf(orgId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('stripe_customers')
      .select('customer_id')
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row?.customer_id;
  }

  async orgOfCustomer(customerId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('stripe_customers')
      .select('org_id')
      .where('customer_id', '=', customerId)
      .executeTakeFirst();
    return row?.org_id;
  }

  /** Record an organization's customer; false when it already has one (a concurrent first checkout). */
  async insertCustomer(orgId: string, customerId: string, at: number): Promise<boolean> {
    const result = await this.db
      .insertInto('stripe_customers')
      .values({ org_id: orgId, customer_id: customerId, created_at: at })
      .onConflict((oc) => oc.column('org_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  // Plans (platform-wide).

  listPlans(onlyActive: boolean): Promise<BillingPlansTable[]> {
    let query = this.db.selectFrom('billing_plans').selectAll();
    if (onlyActive) query = query.where('status', '=', 'active');
    return query.orderBy('price_micros').orderBy('id').execute();
  }

  plan(id: string): Promise<BillingPlansTable | undefined> {
    return this.db.selectFrom('billing_plans').selectAll().where('id', '=', id).executeTakeFirst();
  }

  planByPrice(priceId: string): Promise<BillingPlansTable | undefined> {
    return this.db.selectFrom('billing_plans').selectAll().where('stripe_price_id', '=', priceId).executeTakeFirst();
  }

  async insertPlan(plan: BillingPlansTable): Promise<void> {
    await this.db.insertInto('billing_plans').values(plan).execute();
  }

  async updatePlan(id: string, patch: Partial<BillingPlansTable>): Promise<void> {
    await this.db.updateTable('billing_plans').set(patch).where('id', '=', id).execute();
  }

  // Subscriptions.

  subscriptionOf(orgId: string): Promise<OrgSubscriptionsTable | undefined> {
    return this.db.selectFrom('org_subscriptions').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  }

  subscriptionById(subscriptionId: string): Promise<OrgSubscriptionsTable | undefined> {
    return this.db
      .selectFrom('org_subscriptions')
      .selectAll()
      .where('subscription_id', '=', subscriptionId)
      .executeTakeFirst();
  }

  /** Insert or replace an organization's subscription (one per organization). */
  async putSubscription(row: OrgSubscriptionsTable): Promise<void> {
    const { org_id: _org, created_at: _created, ...rest } = row;
    await this.db
      .insertInto('org_subscriptions')
      .values(row)
      .onConflict((oc) => oc.column('org_id').doUpdateSet(rest))
      .execute();
  }

  async updateSubscription(orgId: string, patch: Partial<OrgSubscriptionsTable>): Promise<void> {
    await this.db.updateTable('org_subscriptions').set(patch).where('org_id', '=', orgId).execute();
  }

  /** Subscriptions whose grace period ended before `now` and that still hold their plan. */
  lapsed(now: number): Promise<OrgSubscriptionsTable[]> {
    return this.db
      .selectFrom('org_subscriptions')
      .selectAll()
      .where('grace_until', 'is not', null)
      .where('grace_until', '<=', now)
      .where('status', 'not in', ['canceled', 'downgraded'])
      .execute();
  }

  // Events.

  async eventSeen(eventId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('stripe_events')
      .select('event_id')
      .where('event_id', '=', eventId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async recordEvent(event: StripeEventsTable): Promise<void> {
    await this.db
      .insertInto('stripe_events')
      .values(event)
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  }

  // Invoices.

  async putInvoice(row: StripeInvoicesTable): Promise<void> {
    const { id: _id, created_at: _created, ...rest } = row;
    await this.db
      .insertInto('stripe_invoices')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(rest))
      .execute();
  }

  listInvoices(orgId: string, limit: number): Promise<StripeInvoicesTable[]> {
    return this.db
      .selectFrom('stripe_invoices')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
