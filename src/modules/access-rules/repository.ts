import type { Kysely } from 'kysely';
import type { Database, IpRulesTable } from '../../infra/db/schema.js';

/** Data access for the global IP allow/deny rules. */
export class AccessRulesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  listAll(): Promise<IpRulesTable[]> {
    return this.db.selectFrom('ip_rules').selectAll().execute();
  }

  /** Every rule by scope, then oldest first (the admin list). */
  listOrdered(): Promise<IpRulesTable[]> {
    return this.db.selectFrom('ip_rules').selectAll().orderBy('scope').orderBy('created_at').execute();
  }

  findById(id: string): Promise<IpRulesTable | undefined> {
    return this.db.selectFrom('ip_rules').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Whether the scope already has this action for this range (another rule than `except`). */
  async exists(
    scope: IpRulesTable['scope'],
    action: IpRulesTable['action'],
    cidr: string,
    except?: string,
  ): Promise<boolean> {
    let query = this.db
      .selectFrom('ip_rules')
      .select('id')
      .where('scope', '=', scope)
      .where('action', '=', action)
      .where('cidr', '=', cidr);
    if (except) query = query.where('id', '!=', except);
    return (await query.executeTakeFirst()) !== undefined;
  }

  async insert(row: IpRulesTable): Promise<void> {
    await this.db.insertInto('ip_rules').values(row).execute();
  }

  async update(id: string, values: Pick<IpRulesTable, 'action' | 'cidr' | 'note'>): Promise<void> {
    await this.db.updateTable('ip_rules').set(values).where('id', '=', id).execute();
  }

  /** Delete a rule; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('ip_rules').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
