import type { Kysely } from 'kysely';
import type { Database } from '../../infra/db/schema.js';
import { columnsFromPolicy, type LimitPolicy, policyFromColumns, type ScopeType } from './policy.js';

type PolicyScope = Exclude<ScopeType, 'key'>;

/** Data access for the limit policies of users, teams and organizations (a key's sit on the key row). */
export class LimitsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async listAll(): Promise<Array<{ scope: string; id: string; policy: LimitPolicy }>> {
    const rows = await this.db.selectFrom('limit_policies').selectAll().execute();
    return rows.map((row) => ({ scope: row.scope_type, id: row.scope_id, policy: policyFromColumns(row) }));
  }

  /** Insert or replace the policy of one scope. */
  async save(scope: PolicyScope, id: string, policy: LimitPolicy, now: number): Promise<void> {
    const values = { scope_type: scope, scope_id: id, ...columnsFromPolicy(policy), updated_at: now };
    await this.db
      .insertInto('limit_policies')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['scope_type', 'scope_id']).doUpdateSet({ ...columnsFromPolicy(policy), updated_at: now }),
      )
      .execute();
  }

  async delete(scope: PolicyScope, id: string): Promise<void> {
    await this.db.deleteFrom('limit_policies').where('scope_type', '=', scope).where('scope_id', '=', id).execute();
  }
}
