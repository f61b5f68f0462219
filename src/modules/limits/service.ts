import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { LimitsLookup } from '../../gateway/ports.js';
import type { Database } from '../../infra/db/schema.js';
import {
  columnsFromPolicy,
  isEmptyPolicy,
  type LimitPolicy,
  mergePolicy,
  NO_LIMITS,
  policyFromColumns,
  type ScopeType,
} from './policy.js';

/**
 * Limit policies of users, teams and organizations, held in memory (read on every /v1 request without a
 * query) and written through. Key policies live on the key (KeysService / KeyVerifier cache).
 */
export class LimitsService implements LimitsLookup {
  #policies = new Map<string, LimitPolicy>();
  readonly #listeners: Array<() => void> = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async load(): Promise<void> {
    const rows = await this.db.selectFrom('limit_policies').selectAll().execute();
    const next = new Map<string, LimitPolicy>();
    for (const row of rows) next.set(`${row.scope_type}:${row.scope_id}`, policyFromColumns(row));
    this.#policies = next;
  }

  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** The policy of a user, team or organization (NO_LIMITS when none is set). */
  get(scope: Exclude<ScopeType, 'key'>, id: string): LimitPolicy {
    return this.#policies.get(`${scope}:${id}`) ?? NO_LIMITS;
  }

  /** Drop a deleted team's or user's policy from memory (its row is gone already). */
  forget(scope: Exclude<ScopeType, 'key'>, id: string): void {
    this.#policies.delete(`${scope}:${id}`);
  }

  /** Change a policy (undefined fields kept, null removes a limit). */
  async set(scope: Exclude<ScopeType, 'key'>, id: string, patch: Partial<LimitPolicy>): Promise<LimitPolicy> {
    const next = mergePolicy(this.get(scope, id), patch);
    const now = this.clock.now();
    if (isEmptyPolicy(next)) {
      await this.db.deleteFrom('limit_policies').where('scope_type', '=', scope).where('scope_id', '=', id).execute();
      this.#policies.delete(`${scope}:${id}`);
    } else {
      const values = { scope_type: scope, scope_id: id, ...columnsFromPolicy(next), updated_at: now };
      await this.db
        .insertInto('limit_policies')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['scope_type', 'scope_id']).doUpdateSet({ ...columnsFromPolicy(next), updated_at: now }),
        )
        .execute();
      this.#policies.set(`${scope}:${id}`, next);
    }
    for (const listener of this.#listeners) listener();
    return next;
  }
}
