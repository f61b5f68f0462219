/**
 * Shared counters for rate windows, budgets, token quotas and concurrency. One interface, two
 * implementations: memory (one process) and Redis (many instances; atomic Lua scripts). The same test suite
 * runs on both.
 */
export interface ReserveItem {
  key: string;
  amount: number;
  /** Reject when the counter would exceed this; null = no limit (just count). */
  limit: number | null;
  /** Counter lifetime from now (period end plus a margin); null = forever. */
  ttlMs: number | null;
}

/** A fixed window (requests or tokens per minute): it starts with the first take and lasts `windowMs`. */
export interface WindowItem {
  key: string;
  /** What this request takes (1 request, or its estimated tokens). */
  points: number;
  /** The window refuses a take that would bring it over this. */
  limit: number;
  windowMs: number;
}

/** A window after a take (or, when the take was refused, as it stands). */
export interface WindowState {
  used: number;
  /** Milliseconds until the window ends (a window not yet started: its whole length). */
  resetMs: number;
}

export interface TakeResult {
  /**
   * -1 when everything was taken; else what refused: a window's index, or `windows.length` + the index of a
   * reservation item. Nothing is taken on a refusal.
   */
  failed: number;
  windows: WindowState[];
}

/** A change to a counter; `ifExists` changes only a counter that exists (a window's settlement). */
export interface CounterChange {
  key: string;
  amount: number;
  ttlMs: number | null;
  ifExists?: boolean;
}

export interface CounterStore {
  /**
   * Take from every rate window and reserve every item, all or nothing, atomically (with Redis: one round
   * trip). A window refuses when `used + points > limit`; an item as in `reserve`.
   */
  take(windows: WindowItem[], items: ReserveItem[]): Promise<TakeResult>;
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
  addAll(items: CounterChange[]): Promise<void>;
  get(keys: string[]): Promise<number[]>;
  /** Set a counter's starting value unless it already exists; returns whether it was set. */
  init(key: string, value: number, ttlMs: number | null): Promise<boolean>;
  /**
   * Raise a counter to at least `value`, creating it if need be (a counter checked against the request log:
   * what the log has that the counter missed is added; what the counter has that the log does not have yet,
   * such as another instance's unwritten rows, is kept).
   */
  raise(key: string, value: number, ttlMs: number | null): Promise<void>;
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

  async take(windows: WindowItem[], items: ReserveItem[]): Promise<TakeResult> {
    const now = this.now();
    const states = new Array<WindowState>(windows.length);
    let failed = -1;
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i] as WindowItem;
      const e = this.entry(w.key, now);
      const used = e?.value ?? 0;
      if (failed < 0 && used + w.points > w.limit) failed = i;
      states[i] = { used, resetMs: e?.expiresAt != null ? e.expiresAt - now : w.windowMs };
    }
    if (failed < 0) {
      const item = this.refusingItem(items, now);
      if (item >= 0) failed = windows.length + item;
    }
    if (failed >= 0) return { failed, windows: states };
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i] as WindowItem;
      this.bump(w.key, w.points, w.windowMs, now);
      (states[i] as WindowState).used += w.points;
    }
    for (const item of items) this.bump(item.key, item.amount, item.ttlMs, now);
    this.sweep(now);
    return { failed, windows: states };
  }

  async reserve(items: ReserveItem[]): Promise<number> {
    const now = this.now();
    const failed = this.refusingItem(items, now);
    if (failed >= 0) return failed;
    for (const item of items) this.bump(item.key, item.amount, item.ttlMs, now);
    this.sweep(now);
    return -1;
  }

  /** The first item whose counter is at or over its limit (and that adds to it), or -1. */
  private refusingItem(items: ReserveItem[], now: number): number {
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as ReserveItem;
      if (item.limit !== null && item.amount > 0 && (this.entry(item.key, now)?.value ?? 0) >= item.limit) return i;
    }
    return -1;
  }

  async add(key: string, amount: number, ttlMs: number | null): Promise<void> {
    const now = this.now();
    this.bump(key, amount, ttlMs, now);
    this.sweep(now);
  }

  async addAll(items: CounterChange[]): Promise<void> {
    const now = this.now();
    for (const item of items) {
      if (item.amount === 0 || (item.ifExists === true && this.entry(item.key, now) === undefined)) continue;
      this.bump(item.key, item.amount, item.ttlMs, now);
    }
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

  async raise(key: string, value: number, ttlMs: number | null): Promise<void> {
    const now = this.now();
    const e = this.entry(key, now);
    if (e) e.value = Math.max(e.value, value);
    else this.#entries.set(key, { value, expiresAt: ttlMs === null ? null : now + ttlMs });
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
