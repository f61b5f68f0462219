import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import { isValidTimeZone } from '../limits/periods.js';
import type { SettingsRepository } from './repository.js';
import { defaultSettings, SETTING_NAMES, type Settings, storedKey } from './schema.js';

export type { Settings } from './schema.js';

/**
 * Instance settings, stored as JSON rows in `settings` and held in memory (read on every request
 * without a query; written through).
 */
export class SettingsService {
  #current: Settings;
  readonly #listeners: Array<(settings: Settings) => void> = [];
  readonly #updateListeners: Array<(settings: Settings) => void> = [];

  constructor(
    private readonly repo: SettingsRepository,
    private readonly clock: Clock,
    /** Start-up values over the schema's defaults (e.g. registrationEnabled from the config). */
    defaults: Partial<Settings> = {},
  ) {
    this.#current = { ...defaultSettings(), ...defaults };
  }

  /** Load stored values over the defaults. */
  async load(): Promise<void> {
    const stored = await this.repo.readAll();
    const next = { ...this.#current } as Record<keyof Settings, unknown>;
    for (const name of SETTING_NAMES) {
      const raw = stored.get(storedKey(name));
      if (raw !== undefined) next[name] = JSON.parse(raw);
    }
    this.#current = next as Settings;
    for (const listener of this.#listeners) listener(this.#current);
  }

  get(): Settings {
    return this.#current;
  }

  /** Change some settings (the schema has checked each value's shape; this checks what it cannot). */
  async update(patch: Partial<Settings>): Promise<Settings> {
    if (patch.limitsTimeZone !== undefined && !isValidTimeZone(patch.limitsTimeZone)) {
      throw new ApiError('validation_failed', `limitsTimeZone "${patch.limitsTimeZone}" is not an IANA time zone`, {
        param: 'limitsTimeZone',
      });
    }
    const values = (Object.entries(patch) as Array<[keyof Settings, unknown]>)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]): [string, string] => [storedKey(name), JSON.stringify(value)]);
    await this.repo.write(values, this.clock.now());
    this.#current = { ...this.#current, ...patch };
    for (const listener of this.#listeners) listener(this.#current);
    for (const listener of this.#updateListeners) listener(this.#current);
    return this.#current;
  }

  /** Called after every change (an update here, or a load). */
  onChange(listener: (settings: Settings) => void): void {
    this.#listeners.push(listener);
  }

  /** Called after an update made through this service (not after a load). */
  onUpdate(listener: (settings: Settings) => void): void {
    this.#updateListeners.push(listener);
  }
}
