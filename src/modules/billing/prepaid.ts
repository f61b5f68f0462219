/**
 * Prepaid admission: a request of a prepaid organization reserves its list price against the organization's
 * balance before it is sent, and settles to the actual price after — the budgets' reserve-then-settle, in
 * the same counter store (memory, or Redis shared by every instance: atomic, overshoot ≤ one request).
 *
 * The counter `wallet:<org>` holds minus the available balance (the ledger's sum less what is reserved or
 * settled but not yet written to the ledger by the usage charger), so the store's "refuse at or over the
 * limit" rule with limit 0 refuses exactly when nothing is left.
 */
import { ApiError } from '../../core/errors.js';
import type { Admission, AdmissionTicket, Reservation, Scope } from '../../gateway/ports.js';
import type { CounterStore } from '../../infra/state/counters.js';
import { type BillingDirectory, listPrice } from './pricing.js';
import type { BalanceMirror } from './service.js';

export interface WalletCountersDeps {
  counters: CounterStore;
  /** The ledger's sum for a wallet key (an organization's id, or a team or user wallet's id). */
  balanceOf: (walletKey: string) => Promise<number>;
  /** Write usage charges still in memory, before a counter is rebuilt from the ledger. */
  flushCharges: () => Promise<void>;
}

/**
 * The available balance of each wallet of a prepaid organization, as an admission counter. A wallet key is
 * the organization's id (its own wallet) or a team or user wallet's id (`mwl_…`, see BillingDirectory.walletOf).
 */
export class WalletCounters implements BalanceMirror {
  /** Counters known to exist (loaded from the ledger once per process). */
  readonly #initialised = new Set<string>();

  constructor(private readonly deps: WalletCountersDeps) {}

  key(orgId: string): string {
    return `wallet:${orgId}`;
  }

  private async ensure(orgId: string): Promise<string> {
    const key = this.key(orgId);
    if (this.#initialised.has(key)) return key;
    if (!(await this.deps.counters.exists(key))) {
      await this.deps.flushCharges();
      await this.deps.counters.init(key, -(await this.deps.balanceOf(orgId)), null);
    }
    this.#initialised.add(key);
    return key;
  }

  /** Reserve `amount` if anything is left (true), else refuse (false) and take nothing. */
  async reserve(orgId: string, amount: number): Promise<boolean> {
    const key = await this.ensure(orgId);
    return (await this.deps.counters.reserve([{ key, amount, limit: 0, ttlMs: null }])) < 0;
  }

  /** Move the reservation by `delta` (actual − reserved; negative gives back). */
  async settle(orgId: string, delta: number): Promise<void> {
    if (delta !== 0) await this.deps.counters.add(this.key(orgId), delta, null);
  }

  /** A credit (or manual debit) was posted to the ledger: available at once. */
  async credited(orgId: string, amountMicros: number): Promise<void> {
    // A counter not created yet is built from the ledger, which already holds this posting.
    await this.deps.counters.addAll([{ key: this.key(orgId), amount: -amountMicros, ttlMs: null, ifExists: true }]);
  }

  /** What a prepaid organization may still spend (its balance less reservations and unwritten charges). */
  async available(orgId: string): Promise<number> {
    const key = await this.ensure(orgId);
    const [value] = await this.deps.counters.get([key]);
    return -(value ?? 0);
  }
}

export interface PrepaidAdmissionDeps {
  inner: Admission;
  wallets: WalletCounters;
  directory: BillingDirectory;
  /** Where a customer tops up (AIHUB_PUBLIC_URL + the console's billing page), for the refusal's message. */
  topUpUrl: () => string | undefined;
}

/**
 * Wraps the limits' admission: for a prepaid organization, the balance is reserved first (refused with
 * 402 insufficient_balance), then every limit; a limit's refusal gives the balance reservation back.
 * Postpaid organizations go straight to the limits (one Set lookup more per request).
 */
export class PrepaidAdmission implements Admission {
  constructor(private readonly deps: PrepaidAdmissionDeps) {}

  async admit(scopes: Scope[], estimate: () => Reservation): Promise<AdmissionTicket> {
    const org = scopes.find((s) => s.type === 'org');
    if (!org || !this.deps.directory.isPrepaid(org.id)) return this.deps.inner.admit(scopes, estimate);
    const teamId = scopes.find((s) => s.type === 'team')?.id ?? null;
    const userId = scopes.find((s) => s.type === 'user')?.id ?? null;
    const ppm = this.deps.directory.multiplier(org.id, teamId);
    const wallet = this.deps.directory.walletOf(org.id, teamId, userId);
    let reservation: Reservation | undefined;
    const once = (): Reservation => {
      reservation ??= estimate();
      return reservation;
    };
    // At least one micro-unit: an empty balance refuses even a request estimated free.
    const reserved = Math.max(1, listPrice(Math.max(0, Math.round(once().costMicros)), ppm));
    if (!(await this.deps.wallets.reserve(wallet, reserved))) throw this.refusal(wallet !== org.id);
    let ticket: AdmissionTicket;
    try {
      ticket = await this.deps.inner.admit(scopes, once);
    } catch (error) {
      void this.deps.wallets.settle(wallet, -reserved).catch(() => undefined);
      throw error;
    }
    let settled = false;
    return {
      headers: ticket.headers,
      settle: (costMicros, tokens) => {
        ticket.settle(costMicros, tokens);
        if (settled) return;
        settled = true;
        void this.deps.wallets.settle(wallet, listPrice(costMicros, ppm) - reserved).catch(() => undefined);
      },
    };
  }

  private refusal(member: boolean): ApiError {
    const url = this.deps.topUpUrl();
    if (member)
      return new ApiError(
        'insufficient_balance',
        "Your team's or your own prepaid balance in this organization is used up; ask an organization admin to top it up to continue",
      );
    return new ApiError(
      'insufficient_balance',
      `Your organization's prepaid balance is used up; top up or redeem a code${url ? ` at ${url}` : ' in the console (Billing)'} to continue`,
    );
  }
}
