import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export type RateKind = 'rpm' | 'tpm';

export interface RateResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/**
 * Requests-per-minute and tokens-per-minute windows, by rate-limiter-flexible (memory or Redis). One
 * limiter per (kind, limit) pair, since a limiter's size is fixed; keys carry the scope.
 */
export class RateLimits {
  readonly #limiters: Record<RateKind, Map<number, RateLimiterAbstract>> = { rpm: new Map(), tpm: new Map() };

  constructor(
    private readonly redis?: Redis | undefined,
    private readonly prefix = 'aihub',
  ) {}

  private limiter(kind: RateKind, limit: number): RateLimiterAbstract {
    let limiter = this.#limiters[kind].get(limit);
    if (!limiter) {
      const keyPrefix = `${this.prefix}:rl:${kind}:${limit}`;
      limiter = this.redis
        ? new RateLimiterRedis({ storeClient: this.redis, points: limit, duration: 60, keyPrefix })
        : new RateLimiterMemory({ points: limit, duration: 60, keyPrefix });
      this.#limiters[kind].set(limit, limiter);
    }
    return limiter;
  }

  /** Take `points` from the window; never throws for "limit reached" (that is `allowed: false`). */
  async consume(kind: RateKind, key: string, limit: number, points: number): Promise<RateResult> {
    try {
      const res = await this.limiter(kind, limit).consume(key, Math.max(0, Math.round(points)));
      return { allowed: true, limit, remaining: Math.max(0, res.remainingPoints), resetMs: res.msBeforeNext };
    } catch (error) {
      if (error instanceof RateLimiterRes) return { allowed: false, limit, remaining: 0, resetMs: error.msBeforeNext };
      throw error;
    }
  }

  /** Give points back (a request that was refused elsewhere, or used fewer tokens than reserved). */
  async refund(kind: RateKind, key: string, limit: number, points: number): Promise<void> {
    if (points > 0) await this.limiter(kind, limit).reward(key, Math.round(points));
  }

  /** Take more points without refusing (a request that used more tokens than reserved). */
  async charge(kind: RateKind, key: string, limit: number, points: number): Promise<void> {
    if (points > 0) await this.limiter(kind, limit).penalty(key, Math.round(points));
  }
}
