/**
 * Shared counters for budgets, token quotas and concurrency. One interface, two implementations:
 * memory (one process) and Redis (many instances; atomic Lua scripts). The same test suite runs on both.
 */
export interface ReserveItem {
  key: string;
  amount: number;
  /** Reject when the counter would exceed this; null = no limit (just count). */
  limit: number | null;
  /** Counter lifetime from now (period end plus a margin); null = forever. */
  ttlMs: number | null;
}

export interface CounterStore {
  /**
   * Add each item's amount to its counter only if every limited counter stays within its limit: all or
   * nothing, atomically. Returns -1 on success, else the index of the first item that would exceed.
   * A limit is checked against the counter before the add: a counter below its limit admits one more
   * request even if that request takes it over (so one request's overshoot at most).
   */
  reserve(items: ReserveItem[]): Promise<number>;
  /** Add (or, negative, subtract) without a limit. */
  add(key: string, amount: number, ttlMs: number | null): Promise<void>;
  /** Several adds in one round trip (settlement). */
  addAll(items: Array<{ key: string; amount: number; ttlMs: number | null }>): Promise<void>;
  get(keys: string[]): Promise<number[]>;
  /** Set a counter's starting value unless it already exists; returns whether it was set. */
  init(key: string, value: number, ttlMs: number | null): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  close(): Promise<void>;
}

interface Entry {
  value: number;
  expiresAt: number | null;
}

/** In-process counters: synchronous under the hood, so every operation is atomic. */
export class MemoryCounterStore implements CounterStore {
  readonly #entries = new Map<string, Entry>();
  #sweepAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private entry(key: string, now: number): Entry | undefined {
    const e = this.#entries.get(key);
    if (e && e.expiresAt !== null && e.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  private bump(key: string, amount: number, ttlMs: number | null, now: number): void {
    const e = this.entry(key, now);
    if (e) e.value += amount;
    else this.#entries.set(key, { value: amount, expiresAt: ttlMs === null ? null : now + ttlMs });
  }

  async reserve(items: ReserveItem[]): Promise<number> {
    const now = this.now();
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as ReserveItem;
      if (item.limit !== null && (this.entry(item.key, now)?.value ?? 0) >= item.limit && item.amount > 0) return i;
    }
    for (const item of items) this.bump(item.key, item.amount, item.ttlMs, now);
    this.sweep(now);
    return -1;
  }

  async add(key: string, amount: number, ttlMs: number | null): Promise<void> {
    const now = this.now();
    this.bump(key, amount, ttlMs, now);
    this.sweep(now);
  }

  async addAll(items: Array<{ key: string; amount: number; ttlMs: number | null }>): Promise<void> {
    const now = this.now();
    for (const item of items) if (item.amount !== 0) this.bump(item.key, item.amount, item.ttlMs, now);
    this.sweep(now);
  }

  async get(keys: string[]): Promise<number[]> {
    const now = this.now();
    return keys.map((k) => this.entry(k, now)?.value ?? 0);
  }

  async init(key: string, value: number, ttlMs: number | null): Promise<boolean> {
    const now = this.now();
    if (this.entry(key, now)) return false;
    this.#entries.set(key, { value, expiresAt: ttlMs === null ? null : now + ttlMs });
    return true;
  }

  async exists(key: string): Promise<boolean> {
    return this.entry(key, this.now()) !== undefined;
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }

  /** Drop expired entries now and then (old periods), so memory does not grow forever. */
  private sweep(now: number): void {
    if (now < this.#sweepAt) return;
    this.#sweepAt = now + 60_000;
    for (const [key, e] of this.#entries) if (e.expiresAt !== null && e.expiresAt <= now) this.#entries.delete(key);
  }
}
