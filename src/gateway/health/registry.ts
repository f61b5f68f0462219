import type { Clock } from '../../core/clock.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Failures within `windowMs` that open the breaker. */
  failureThreshold: number;
  windowMs: number;
  /** How long an open breaker stays open before a trial request is let through. */
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000 };

const OUTCOME_WINDOW = 100;
const LATENCY_ALPHA = 0.3;

/** Health of one channel × upstream model: circuit breaker, latency average, in-flight count, success rate. */
export class TargetHealth {
  state: BreakerState = 'closed';
  openUntil = 0;
  /** Times the breaker opened without a success in between (for auto-disable). */
  consecutiveOpens = 0;
  trialInFlight = false;
  inflight = 0;
  /** Moving average of time to first token, ms; null until measured. */
  latencyMs: number | null = null;
  lastError: string | null = null;
  lastErrorAt: number | null = null;
  lastSuccessAt: number | null = null;
  #failures: number[] = [];
  /** The last OUTCOME_WINDOW outcomes, as a ring (`#next` is the slot to write), and how many succeeded. */
  readonly #outcomes: boolean[] = [];
  #next = 0;
  #successes = 0;

  get successRate(): number | null {
    if (this.#outcomes.length === 0) return null;
    return this.#successes / this.#outcomes.length;
  }

  get samples(): number {
    return this.#outcomes.length;
  }

  /** Whether a request may be sent now (an open breaker lets one trial through after its cooldown). */
  available(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && now >= this.openUntil) return !this.trialInFlight;
    return this.state === 'half_open' && !this.trialInFlight;
  }

  start(now: number): void {
    this.inflight++;
    if (this.state === 'open' && now >= this.openUntil) this.state = 'half_open';
    if (this.state === 'half_open') this.trialInFlight = true;
  }

  succeed(now: number, latencyMs: number | null): void {
    this.inflight = Math.max(0, this.inflight - 1);
    this.state = 'closed';
    this.trialInFlight = false;
    this.consecutiveOpens = 0;
    if (this.#failures.length > 0) this.#failures = [];
    this.lastSuccessAt = now;
    if (latencyMs !== null)
      this.latencyMs =
        this.latencyMs === null ? latencyMs : this.latencyMs + LATENCY_ALPHA * (latencyMs - this.latencyMs);
    this.pushOutcome(true);
  }

  /** Record a failure; returns true when this failure opened the breaker. */
  fail(now: number, error: string, options: BreakerOptions): boolean {
    this.inflight = Math.max(0, this.inflight - 1);
    this.lastError = error;
    this.lastErrorAt = now;
    this.pushOutcome(false);
    this.#failures = this.#failures.filter((t) => now - t < options.windowMs);
    this.#failures.push(now);
    const trialFailed = this.state === 'half_open';
    this.trialInFlight = false;
    if (trialFailed || (this.state === 'closed' && this.#failures.length >= options.failureThreshold)) {
      this.state = 'open';
      this.openUntil = now + options.cooldownMs;
      this.consecutiveOpens++;
      return true;
    }
    return false;
  }

  /** A request that ended without a verdict on the upstream (client left): only release the slot. */
  release(): void {
    this.inflight = Math.max(0, this.inflight - 1);
    this.trialInFlight = false;
  }

  private pushOutcome(ok: boolean): void {
    if (this.#outcomes.length < OUTCOME_WINDOW) this.#outcomes.push(ok);
    else if (this.#outcomes[this.#next]) this.#successes--;
    this.#outcomes[this.#next] = ok;
    this.#next = (this.#next + 1) % OUTCOME_WINDOW;
    if (ok) this.#successes++;
  }
}

export interface ChannelHealthSummary {
  /** healthy: all breakers closed; degraded: some open; down: all open; unknown: no traffic yet. */
  status: 'healthy' | 'degraded' | 'down' | 'unknown';
  latencyMs: number | null;
  successRate: number | null;
  inflight: number;
  lastError: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
  /** The latest health probe, if any ran. */
  lastCheck: ProbeResult | null;
}

export interface ProbeResult {
  at: number;
  ok: boolean;
  latencyMs: number;
  error: string | null;
}

/**
 * In-memory health of every routing target, per instance. Also holds per-key cooldowns (a provider key
 * that got 429 rests until its Retry-After passes while the pool's other keys carry on).
 */
export class HealthRegistry {
  /** Targets by channel id, then upstream model (no key string built per lookup). */
  readonly #targets = new Map<string, Map<string, TargetHealth>>();
  readonly #keyCooldowns = new Map<string, { until: number; channelId: string }>();
  readonly #lastCheck = new Map<string, ProbeResult>();
  options: BreakerOptions;

  constructor(
    private readonly clock: Clock,
    options: Partial<BreakerOptions> = {},
  ) {
    this.options = { ...DEFAULT_BREAKER, ...options };
  }

  target(channelId: string, upstreamModel: string): TargetHealth {
    let models = this.#targets.get(channelId);
    if (!models) {
      models = new Map();
      this.#targets.set(channelId, models);
    }
    let health = models.get(upstreamModel);
    if (!health) {
      health = new TargetHealth();
      models.set(upstreamModel, health);
    }
    return health;
  }

  coolKey(keyId: string, ms: number, channelId = ''): void {
    this.#keyCooldowns.set(keyId, { until: this.clock.now() + ms, channelId });
  }

  keyAvailable(keyId: string, now: number): boolean {
    const until = this.#keyCooldowns.get(keyId)?.until;
    if (until === undefined) return true;
    if (now >= until) {
      this.#keyCooldowns.delete(keyId);
      return true;
    }
    return false;
  }

  /** Milliseconds the key still rests (0 when usable). */
  keyRestRemaining(keyId: string, now: number): number {
    const until = this.#keyCooldowns.get(keyId)?.until;
    return until === undefined ? 0 : Math.max(0, until - now);
  }

  /** How many of the channel's targets (one per upstream model) are in each breaker state. */
  breakerStates(channelId: string): Record<BreakerState, number> {
    const counts: Record<BreakerState, number> = { closed: 0, open: 0, half_open: 0 };
    for (const target of this.#targets.get(channelId)?.values() ?? []) counts[target.state]++;
    return counts;
  }

  /** Provider keys of the channel resting after a 429 at `now`. */
  restingKeys(channelId: string, now: number): number {
    let resting = 0;
    for (const cooldown of this.#keyCooldowns.values())
      if (cooldown.channelId === channelId && cooldown.until > now) resting++;
    return resting;
  }

  recordCheck(channelId: string, result: ProbeResult): void {
    this.#lastCheck.set(channelId, result);
  }

  /** Forget a channel's state (after an admin edits or re-enables it). */
  resetChannel(channelId: string): void {
    this.#targets.delete(channelId);
    for (const [keyId, cooldown] of this.#keyCooldowns)
      if (cooldown.channelId === channelId) this.#keyCooldowns.delete(keyId);
  }

  summary(channelId: string): ChannelHealthSummary {
    const parts = [...(this.#targets.get(channelId)?.values() ?? [])];
    const latencies = parts.map((p) => p.latencyMs).filter((v): v is number => v !== null);
    const samples = parts.reduce((n, p) => n + p.samples, 0);
    const successes = parts.reduce((n, p) => n + (p.successRate ?? 0) * p.samples, 0);
    const open = parts.filter((p) => p.state !== 'closed').length;
    const lastErrorPart = parts
      .filter((p) => p.lastErrorAt !== null)
      .sort((a, b) => (b.lastErrorAt ?? 0) - (a.lastErrorAt ?? 0))[0];
    const lastSuccess = Math.max(0, ...parts.map((p) => p.lastSuccessAt ?? 0));
    return {
      status:
        parts.length === 0 || samples === 0
          ? 'unknown'
          : open === 0
            ? 'healthy'
            : open === parts.length
              ? 'down'
              : 'degraded',
      latencyMs: latencies.length > 0 ? Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length) : null,
      successRate: samples > 0 ? Math.round((successes / samples) * 1000) / 1000 : null,
      inflight: parts.reduce((n, p) => n + p.inflight, 0),
      lastError: lastErrorPart?.lastError ?? null,
      lastErrorAt: lastErrorPart?.lastErrorAt ?? null,
      lastSuccessAt: lastSuccess > 0 ? lastSuccess : null,
      lastCheck: this.#lastCheck.get(channelId) ?? null,
    };
  }
}
