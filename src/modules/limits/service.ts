import type { Clock } from '../../core/clock.js';
import type { LimitsLookup } from '../../gateway/ports.js';
import { isEmptyPolicy, type LimitPolicy, mergePolicy, NO_LIMITS, type ScopeType } from './policy.js';
import type { LimitsRepository } from './repository.js';

/**
 * Limit policies of users, teams and organizations, held in memory (read on every /v1 request without a
 * query) and written through. Key policies live on the key (KeysService / KeyVerifier cache).
 */
export class LimitsService implements LimitsLookup {
  #policies = new Map<string, LimitPolicy>();
  readonly #listeners: Array<() => void> = [];

  constructor(
    private readonly repo: LimitsRepository,
    private readonly clock: Clock,
  ) {}

  async load(): Promise<void> {
    const next = new Map<string, LimitPolicy>();
    for (const { scope, id, policy } of await this.repo.listAll()) next.set(`${scope}:${id}`, policy);
    this.#policies = next;
  }

  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** The policy of a user, team or organization (NO_LIMITS when none is set). */
  get(scope: Exclude<ScopeType, 'key'>, id: string): LimitPolicy {
    return this.#policies.get(`${scope}:${id}`) ?? NO_LIMITS;
  }

  /** Drop a deleted team's or user's policy from memory (its row is gone already). */
  forget(scope: Exclude<ScopeType, 'key'>, id: string): void {
    this.#policies.delete(`${scope}:${id}`);
  }

  /** Change a policy (undefined fields kept, null removes a limit). */
  async set(scope: Exclude<ScopeType, 'key'>, id: string, patch: Partial<LimitPolicy>): Promise<LimitPolicy> {
    const next = mergePolicy(this.get(scope, id), patch);
    const now = this.clock.now();
    if (isEmptyPolicy(next)) {
      await this.repo.delete(scope, id);
      this.#policies.delete(`${scope}:${id}`);
    } else {
      await this.repo.save(scope, id, next, now);
      this.#policies.set(`${scope}:${id}`, next);
    }
    for (const listener of this.#listeners) listener();
    return next;
  }
}
