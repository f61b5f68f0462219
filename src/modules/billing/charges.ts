/**
 * Usage charges: every request row gets its list price (cost × multiplier) on its way to the request log,
 * and the list prices of prepaid organizations are summed in memory and written to their ledgers in
 * batches — one `usage` entry per organization per batch, never a database write per request.
 */

import type { UsageSink } from '../../gateway/ports.js';
import type { RequestLogsTable } from '../../infra/db/schema.js';
import type { WalletCounters } from './prepaid.js';
import { type BillingDirectory, listPrice } from './pricing.js';
import type { Posting } from './service.js';

interface Pending {
  orgId: string;
  amount: number;
  requests: number;
  from: number;
  to: number;
}

export interface UsageChargerOptions {
  /** Write charges at least this often once one is pending. */
  intervalMs?: number;
  /** Append a ledger entry (BillingService.post). */
  post: (posting: Posting) => Promise<unknown>;
  newId: (prefix: string) => string;
  onError?: (error: unknown) => void;
}

/** Sums prepaid usage per organization and writes it to the ledger in batches (a timer, like the log writer). */
export class UsageCharger {
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #onError: (error: unknown) => void;
  readonly #intervalMs: number;

  constructor(private readonly options: UsageChargerOptions) {
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#onError = options.onError ?? (() => undefined);
  }

  reportErrorsTo(handler: (error: unknown) => void): void {
    this.#onError = handler;
  }

  /**
   * Queue a request's list price for the wallet it was reserved against (`wallet`: the organization's id, or
   * a team or user wallet's id; default the organization's). Never throws, never waits.
   */
  charge(orgId: string, amount: number, at: number, wallet: string = orgId): void {
    const p = this.#pending.get(wallet);
    if (p) {
      p.amount += amount;
      p.requests++;
      if (at < p.from) p.from = at;
      if (at > p.to) p.to = at;
    } else this.#pending.set(wallet, { orgId, amount, requests: 1, from: at, to: at });
    if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Write everything pending. Concurrent calls share the write in progress. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.size === 0) return;
    this.#flushing = this.writeAll().finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  private async writeAll(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    for (const [wallet, p] of batch) {
      try {
        await this.options.post({
          orgId: p.orgId,
          walletId: wallet === p.orgId ? null : wallet,
          kind: 'usage',
          amountMicros: -p.amount,
          // A retried batch after an unclear failure would charge twice without it.
          reference: `usage:${this.options.newId('chg')}`,
          actor: 'system',
          detail: { requests: p.requests, from: p.from, to: p.to },
        });
      } catch (error) {
        // Kept for the next flush: a charge is never dropped because the database hiccuped.
        this.#onError(error);
        const again = this.#pending.get(wallet);
        if (again) {
          again.amount += p.amount;
          again.requests += p.requests;
          again.from = Math.min(again.from, p.from);
          again.to = Math.max(again.to, p.to);
        } else this.#pending.set(wallet, p);
        if (!this.#timer) {
          this.#timer = setTimeout(
            () => {
              this.#timer = undefined;
              void this.flush();
            },
            Math.max(this.#intervalMs, 1_000),
          );
          this.#timer.unref();
        }
      }
    }
  }
}

/**
 * The usage sink the data plane writes to: prices each row (list price beside cost) and queues the prepaid
 * organizations' charges, then hands the row to the request-log writer.
 */
export class BilledUsageSink implements UsageSink {
  constructor(
    private readonly inner: UsageSink,
    private readonly directory: BillingDirectory,
    private readonly charger: UsageCharger,
    /** The prepaid counters, corrected when a per-model override priced a row off its multiplier. */
    private readonly wallets?: WalletCounters,
  ) {}

  expect(): void {
    this.inner.expect();
  }

  fulfil(): void {
    this.inner.fulfil();
  }

  track(pending: Promise<void>): void {
    this.inner.track(pending);
  }

  record(row: RequestLogsTable): void {
    if (row.cache === 'hit') {
      // A response-cache hit: no upstream cost; its charge (at cost) is in price_micros, × the multiplier.
      row.price_micros = listPrice(row.price_micros, this.directory.multiplier(row.org_id, row.team_id));
      if (row.price_micros > 0 && row.org_id !== null && this.directory.isPrepaid(row.org_id))
        this.charger.charge(row.org_id, row.price_micros, row.at, this.walletOf(row, row.org_id));
      this.inner.record(row);
      return;
    }
    row.price_micros = this.directory.priceOf(row);
    if (row.org_id !== null && this.directory.isPrepaid(row.org_id)) {
      const wallet = this.walletOf(row, row.org_id);
      if (row.price_micros > 0) this.charger.charge(row.org_id, row.price_micros, row.at, wallet);
      // Prepaid admission settled the multiplier's price (it does not know the model's override): the
      // counter moves by the difference, so it still equals the ledger once the charge is written.
      const settled = listPrice(row.cost_micros, this.directory.multiplier(row.org_id, row.team_id));
      if (settled !== row.price_micros)
        void this.wallets?.settle(wallet, row.price_micros - settled).catch(() => undefined);
    }
    this.inner.record(row);
  }

  /** The wallet the request was reserved against (the same rule as admission: BillingDirectory.walletOf). */
  private walletOf(row: RequestLogsTable, orgId: string): string {
    return this.directory.walletOf(orgId, row.team_id, row.user_id);
  }
}
