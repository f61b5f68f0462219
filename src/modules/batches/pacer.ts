import type { Clock } from '../../core/clock.js';

/**
 * Paces batch lines on this instance: at most `perSecond()` starts a second across every batch it runs (a
 * token bucket of one second's worth), so batches never starve interactive traffic.
 */
export class Pacer {
  #tokens: number;
  #at: number;

  constructor(
    private readonly perSecond: () => number,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.#tokens = 1;
    this.#at = clock.now();
  }

  /** Milliseconds to wait before the next start (0: go now, and the start is counted). */
  reserve(): number {
    const rate = Math.max(1, this.perSecond());
    const now = this.clock.now();
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#at) * rate) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / rate);
  }

  /** Wait for a start. */
  async take(): Promise<void> {
    for (let wait = this.reserve(); wait > 0; wait = this.reserve()) await this.sleep(wait);
  }
}
