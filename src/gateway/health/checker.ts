import { performance } from 'node:perf_hooks';
import type { Clock } from '../../core/clock.js';
import type { Catalog } from '../catalog.js';
import type { ChannelControl } from '../ports.js';
import { AUTO_DISABLE_PREFIX } from './auto-disable.js';
import type { HealthRegistry } from './registry.js';
import type { ChannelTester } from './tester.js';

export interface HealthCheckerDeps {
  catalog: Catalog;
  tester: ChannelTester;
  health: HealthRegistry;
  clock: Clock;
  intervalSeconds: () => number;
  autoReenable: () => boolean;
  /** Re-enables a channel that passed its probe (audit-logged by the control plane). */
  control: ChannelControl;
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
  #started = false;
  /** The interval the schedule follows, in seconds (0: off, no timer). */
  #interval = 0;
  /** When the last round of probes started (performance.now()); undefined: the next round is due now. */
  #lastRound: number | undefined;

  constructor(private readonly deps: HealthCheckerDeps) {}

  /** The first round comes one interval after start. */
  start(): void {
    this.#started = true;
    this.#lastRound = performance.now();
    this.schedule();
  }

  stop(): void {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Apply a change of the interval setting now (made here or, through the change bus or the periodic reload,
   * on another instance) rather than when the pending timer fires: off → on probes at once, on → off stops,
   * a new interval counts from the last round.
   */
  settingsChanged(): void {
    if (!this.#started) return;
    const seconds = this.deps.intervalSeconds();
    if (seconds === this.#interval) return;
    if (this.#interval <= 0) this.#lastRound = undefined;
    this.schedule();
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
          await this.deps.control.enable(channel.id, 'health check passed');
          this.deps.health.resetChannel(channel.id);
          this.deps.log?.('channel re-enabled after a passing health check', { channelId: channel.id });
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** (Re)arm the timer for the next round by the current setting; none while checks are off. */
  private schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const seconds = this.deps.intervalSeconds();
    this.#interval = seconds;
    if (seconds <= 0) return;
    const due = this.#lastRound === undefined ? 0 : this.#lastRound + seconds * 1000;
    this.#timer = setTimeout(() => void this.round(), Math.max(0, due - performance.now()));
    this.#timer.unref();
  }

  private async round(): Promise<void> {
    this.#timer = undefined;
    this.#lastRound = performance.now();
    await this.runOnce().catch(() => undefined);
    // A change during the round has already set the next timer.
    if (this.#started && this.#timer === undefined) this.schedule();
  }
}
