import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../infra/db/schema.js';
import type { LimitPolicy } from '../limits/policy.js';

/** The instance settings admins can change at run time, with their defaults. */
export interface Settings {
  registrationEnabled: boolean;
  /** Default routing strategy for models that set none. */
  routingStrategy: 'weighted' | 'round_robin' | 'lowest_latency' | 'least_inflight';
  /** Most upstream attempts per request, failover included. */
  maxAttempts: number;
  /** Failures within a minute that open a channel×model circuit breaker. */
  breakerFailureThreshold: number;
  /** Seconds an open breaker waits before letting a trial request through. */
  breakerCooldownSeconds: number;
  /** Seconds between health probes of each channel; 0 turns health checks off. */
  healthCheckIntervalSeconds: number;
  /** Re-enable a channel that was disabled automatically once its health check passes again. */
  autoReenableChannels: boolean;
  /** Tell admins which channel served a request in an `x-aihub-channel` response header. */
  exposeChannelHeader: boolean;
  /** IANA time zone where daily/weekly/monthly budget periods start. */
  limitsTimeZone: string;
  /** Limits given to every new user (copied at creation). */
  defaultUserLimits: Partial<LimitPolicy>;
  /** Limits given to every new API key (copied at creation). */
  defaultKeyLimits: Partial<LimitPolicy>;
  /** Request-log rows older than this many days are deleted by the background purge; 0 keeps them forever. */
  logRetentionDays: number;
  /** Keep /v1 request and response bodies in the request log: never, for failed requests only, or always. */
  logBodies: 'off' | 'errors' | 'all';
  /** Longest body kept, in characters (the rest is cut off and marked). */
  logBodyMaxChars: number;
}

export const DEFAULT_SETTINGS: Omit<Settings, 'registrationEnabled'> = {
  routingStrategy: 'weighted',
  maxAttempts: 3,
  breakerFailureThreshold: 5,
  breakerCooldownSeconds: 30,
  healthCheckIntervalSeconds: 60,
  autoReenableChannels: true,
  exposeChannelHeader: false,
  limitsTimeZone: 'UTC',
  defaultUserLimits: {},
  defaultKeyLimits: {},
  logRetentionDays: 0,
  logBodies: 'off',
  logBodyMaxChars: 16_384,
};

const SETTING_KEYS: Record<keyof Settings, string> = {
  registrationEnabled: 'registration_enabled',
  routingStrategy: 'routing_strategy',
  maxAttempts: 'max_attempts',
  breakerFailureThreshold: 'breaker_failure_threshold',
  breakerCooldownSeconds: 'breaker_cooldown_seconds',
  healthCheckIntervalSeconds: 'health_check_interval_seconds',
  autoReenableChannels: 'auto_reenable_channels',
  exposeChannelHeader: 'expose_channel_header',
  limitsTimeZone: 'limits_time_zone',
  defaultUserLimits: 'default_user_limits',
  defaultKeyLimits: 'default_key_limits',
  logRetentionDays: 'log_retention_days',
  logBodies: 'log_bodies',
  logBodyMaxChars: 'log_body_max_chars',
};

/**
 * Instance settings, stored as JSON rows in `settings` and held in memory (read on every request
 * without a query; written through).
 */
export class SettingsService {
  #current: Settings;
  readonly #listeners: Array<(settings: Settings) => void> = [];
  readonly #updateListeners: Array<(settings: Settings) => void> = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    defaults: Partial<Settings> & Pick<Settings, 'registrationEnabled'>,
  ) {
    this.#current = { ...DEFAULT_SETTINGS, ...defaults };
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
    for (const listener of this.#listeners) listener(this.#current);
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
