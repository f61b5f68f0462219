import type { Kysely } from 'kysely';
import type { Database } from '../../infra/db/schema.js';

/** Data access for the `settings` table: one JSON value per key. */
export class SettingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Every stored value, by key (JSON text). */
  async readAll(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('settings').selectAll().execute();
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  /** Insert or replace the given values (JSON text by key) in one transaction. */
  async write(values: Array<[key: string, json: string]>, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const [key, value] of values) {
        await trx
          .insertInto('settings')
          .values({ key, value, updated_at: now })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
          .execute();
      }
    });
  }
}
