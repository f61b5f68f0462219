import type { Clock } from '../core/clock.js';
import type { ChannelTester } from '../modules/channels/tester.js';
import type { Catalog, CatalogChannel } from './catalog.js';
import type { HealthRegistry } from './health.js';

/** Reasons the gateway writes when it disables a channel by itself; only these are re-enabled by itself. */
export const AUTO_DISABLE_PREFIX = 'auto: ';

export interface HealthCheckerDeps {
  catalog: Catalog;
  tester: ChannelTester;
  health: HealthRegistry;
  clock: Clock;
  intervalSeconds: () => number;
  autoReenable: () => boolean;
  /** Re-enable a channel that passed its probe (audit-logged by the caller). */
  reenable: (channel: CatalogChannel) => Promise<void>;
  log?: (message: string, detail: Record<string, unknown>) => void;
}

/**
 * Periodic, cheap probes of every channel (a one-token request; the mock channel costs nothing).
 * Results show in the admin channel list; a channel the gateway disabled by itself comes back when its
 * probe passes again (if the admin setting allows).
 */
export class HealthChecker {
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;

  constructor(private readonly deps: HealthCheckerDeps) {}

  start(): void {
    this.#stopped = false;
    this.schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Probe every channel once now (also used by tests). */
  async runOnce(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (const channel of this.deps.catalog.allChannels()) {
        const autoDisabled = !channel.active && (channel.disabledReason ?? '').startsWith(AUTO_DISABLE_PREFIX);
        if (!channel.active && !autoDisabled) continue;
        const result = await this.deps.tester.test(channel.id).catch((error: unknown) => ({
          ok: false,
          latencyMs: 0,
          error: error instanceof Error ? error.message : String(error),
        }));
        this.deps.health.recordCheck(channel.id, {
          at: this.deps.clock.now(),
          ok: result.ok,
          latencyMs: result.latencyMs,
          error: result.error ?? null,
        });
        if (result.ok && autoDisabled && this.deps.autoReenable()) {
          await this.deps.reenable(channel);
          this.deps.health.resetChannel(channel.id);
          this.deps.log?.('channel re-enabled after a passing health check', { channelId: channel.id });
        }
      }
    } finally {
      this.#running = false;
    }
  }

  private schedule(): void {
    const seconds = this.deps.intervalSeconds();
    // Off (0) still re-reads the setting every minute, so turning checks on needs no restart.
    const delay = (seconds > 0 ? seconds : 60) * 1000;
    this.#timer = setTimeout(() => {
      const run = seconds > 0 ? this.runOnce() : Promise.resolve();
      void run
        .catch(() => undefined)
        .finally(() => {
          if (!this.#stopped) this.schedule();
        });
    }, delay);
    this.#timer.unref();
  }
}
