import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../infra/db/schema.js';

/** The instance settings admins can change at run time, with their defaults. */
export interface Settings {
  registrationEnabled: boolean;
}

const SETTING_KEYS: Record<keyof Settings, string> = {
  registrationEnabled: 'registration_enabled',
};

/**
 * Instance settings, stored as JSON rows in `settings` and held in memory (read on every request
 * without a query; written through).
 */
export class SettingsService {
  #current: Settings;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    defaults: Settings,
  ) {
    this.#current = { ...defaults };
  }

  /** Load stored values over the defaults. */
  async load(): Promise<void> {
    const rows = await this.db.selectFrom('settings').selectAll().execute();
    const byKey = new Map(rows.map((r) => [r.key, r.value]));
    const next = { ...this.#current } as Record<keyof Settings, unknown>;
    for (const [name, key] of Object.entries(SETTING_KEYS) as Array<[keyof Settings, string]>) {
      const raw = byKey.get(key);
      if (raw !== undefined) next[name] = JSON.parse(raw);
    }
    this.#current = next as Settings;
  }

  get(): Settings {
    return this.#current;
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      for (const [name, value] of Object.entries(patch) as Array<[keyof Settings, unknown]>) {
        if (value === undefined) continue;
        const key = SETTING_KEYS[name];
        await trx
          .insertInto('settings')
          .values({ key, value: JSON.stringify(value), updated_at: now })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value), updated_at: now }))
          .execute();
      }
    });
    this.#current = { ...this.#current, ...patch };
    return this.#current;
  }
}
