import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../../core/errors.js';

export interface LoginThrottleOptions {
  /** Failed logins allowed per IP per window. */
  perIp?: number;
  /** Failed logins allowed per account per window. */
  perAccount?: number;
  windowSeconds?: number;
  /** Shared store for several instances; memory when absent. */
  redis?: Redis | undefined;
  keyPrefix?: string;
  /** What is counted, for the refusal's message (default "failed sign-in attempts"). */
  what?: string;
}

/**
 * Brute-force protection for sign-in: failed attempts are counted per IP and per account; once either
 * limit is reached, further attempts are refused with 429 until the window passes.
 */
export class LoginThrottle {
  readonly #byIp: RateLimiterAbstract;
  readonly #byAccount: RateLimiterAbstract;
  readonly #perIp: number;
  readonly #perAccount: number;
  readonly #what: string;

  constructor(options: LoginThrottleOptions = {}) {
    this.#what = options.what ?? 'failed sign-in attempts';
    this.#perIp = options.perIp ?? 50;
    this.#perAccount = options.perAccount ?? 10;
    const duration = options.windowSeconds ?? 900;
    const prefix = options.keyPrefix ?? 'aihub';
    const make = (points: number, name: string): RateLimiterAbstract =>
      options.redis
        ? new RateLimiterRedis({
            storeClient: options.redis,
            points,
            duration,
            blockDuration: duration,
            keyPrefix: `${prefix}:login:${name}`,
          })
        : new RateLimiterMemory({ points, duration, blockDuration: duration, keyPrefix: `login:${name}` });
    this.#byIp = make(this.#perIp, 'ip');
    this.#byAccount = make(this.#perAccount, 'acct');
  }

  /** Throw 429 when this IP or account is currently blocked. */
  async check(ip: string, account: string): Promise<void> {
    const [ipRes, accountRes] = await Promise.all([this.#byIp.get(ip), this.#byAccount.get(account)]);
    const blocked = [
      [ipRes, this.#perIp],
      [accountRes, this.#perAccount],
    ].find(([res, limit]) => res instanceof RateLimiterRes && res.consumedPoints >= (limit as number));
    if (blocked) {
      const res = blocked[0] as RateLimiterRes;
      const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new ApiError('too_many_attempts', `Too many ${this.#what}; try again in ${retryAfterSeconds} seconds`, {
        retryAfterSeconds,
      });
    }
  }

  async recordFailure(ip: string, account: string): Promise<void> {
    await Promise.all([swallowLimit(this.#byIp.consume(ip)), swallowLimit(this.#byAccount.consume(account))]);
  }

  async recordSuccess(account: string): Promise<void> {
    await this.#byAccount.delete(account);
  }
}

async function swallowLimit(promise: Promise<RateLimiterRes>): Promise<void> {
  try {
    await promise;
  } catch (error) {
    // A rejected consume means "limit reached"; that is what check() reports next time.
    if (!(error instanceof RateLimiterRes)) throw error;
  }
}
