import type { Redis } from 'ioredis';
import type { CounterChange, CounterStore, ReserveItem, TakeResult, WindowItem, WindowState } from './counters.js';

// KEYS: the windows' keys, then the items' keys. ARGV: w, n, then per window points, limit, window ms, then
// per item amount, limit (-1 = none), ttl ms (-1 = none). All or nothing: every window and every limited
// item is checked first, then all are added. Returns { failed (-1 = none), then per window used, ms left }.
const TAKE = `
local w = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local failed = -1
local out = {}
for i = 1, w do
  local b = 2 + (i - 1) * 3
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  local left = redis.call('PTTL', KEYS[i])
  if left < 0 then left = tonumber(ARGV[b + 3]) end
  if failed < 0 and used + tonumber(ARGV[b + 1]) > tonumber(ARGV[b + 2]) then failed = i - 1 end
  out[2 * i] = used
  out[2 * i + 1] = left
end
local base = 2 + w * 3
if failed < 0 then
  for i = 1, n do
    local b = base + (i - 1) * 3
    local limit = tonumber(ARGV[b + 2])
    if limit >= 0 and tonumber(ARGV[b + 1]) > 0 then
      if tonumber(redis.call('GET', KEYS[w + i]) or '0') >= limit then
        failed = w + i - 1
        break
      end
    end
  end
end
out[1] = failed
if failed >= 0 then return out end
for i = 1, w do
  local b = 2 + (i - 1) * 3
  out[2 * i] = redis.call('INCRBY', KEYS[i], tonumber(ARGV[b + 1]))
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[b + 3])) end
end
for i = 1, n do
  local b = base + (i - 1) * 3
  local ttl = tonumber(ARGV[b + 3])
  redis.call('INCRBY', KEYS[w + i], tonumber(ARGV[b + 1]))
  if ttl > 0 and redis.call('PTTL', KEYS[w + i]) < 0 then redis.call('PEXPIRE', KEYS[w + i], ttl) end
end
return out
`;

// KEYS: counters; ARGV per key: amount, ttl ms (-1 = none), 1 = only if the counter exists (else 0).
const ADD = `
for i = 1, #KEYS do
  local b = (i - 1) * 3
  if ARGV[b + 3] == '0' or redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCRBY', KEYS[i], tonumber(ARGV[b + 1]))
    local ttl = tonumber(ARGV[b + 2])
    if ttl > 0 and redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
return 1
`;

// KEYS: one counter; ARGV: value, ttl ms (-1 = none). The counter becomes max(counter, value).
const RAISE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local value = tonumber(ARGV[1])
if current >= value then return 0 end
local ttl = tonumber(ARGV[2])
if ttl > 0 and current < 0 then redis.call('SET', KEYS[1], value, 'PX', ttl) else redis.call('SET', KEYS[1], value, 'KEEPTTL') end
return 1
`;

/** The scripts as client commands (ioredis `defineCommand`): sent by SHA (EVALSHA), loaded on first use. */
interface ScriptedRedis {
  aihubCounterTake(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number[]>;
  aihubCounterAdd(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  aihubCounterRaise(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
}

/**
 * Counters in Redis, shared by every instance; each operation is one atomic script, so admitting a request
 * (its rate windows and its reservation) is one round trip, and settling it another. The scripts are sent by
 * their SHA, not as text: EVAL with the script's text on every request made its write the largest item of
 * the hot path's profile on PostgreSQL + Redis.
 */
export class RedisCounterStore implements CounterStore {
  private readonly scripts: ScriptedRedis;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'aihub:',
  ) {
    const client = redis as Redis & Partial<ScriptedRedis>;
    // Defined once per client (several stores may share one).
    if (typeof client.aihubCounterTake !== 'function') client.defineCommand('aihubCounterTake', { lua: TAKE });
    if (typeof client.aihubCounterAdd !== 'function') client.defineCommand('aihubCounterAdd', { lua: ADD });
    if (typeof client.aihubCounterRaise !== 'function') client.defineCommand('aihubCounterRaise', { lua: RAISE });
    this.scripts = client as Redis & ScriptedRedis;
  }

  async take(windows: WindowItem[], items: ReserveItem[]): Promise<TakeResult> {
    const args: Array<string | number> = [];
    for (const w of windows) args.push(this.prefix + w.key);
    for (const item of items) args.push(this.prefix + item.key);
    args.push(windows.length, items.length);
    for (const w of windows) args.push(Math.max(0, Math.round(w.points)), w.limit, w.windowMs);
    for (const item of items) args.push(Math.round(item.amount), item.limit ?? -1, item.ttlMs ?? -1);
    const out = await this.scripts.aihubCounterTake(windows.length + items.length, ...args);
    const states = new Array<WindowState>(windows.length);
    for (let i = 0; i < windows.length; i++)
      states[i] = { used: Number(out[2 * i + 1]), resetMs: Number(out[2 * i + 2]) };
    return { failed: Number(out[0]), windows: states };
  }

  async reserve(items: ReserveItem[]): Promise<number> {
    if (items.length === 0) return -1;
    return (await this.take([], items)).failed;
  }

  async add(key: string, amount: number, ttlMs: number | null): Promise<void> {
    await this.addAll([{ key, amount, ttlMs }]);
  }

  async addAll(items: CounterChange[]): Promise<void> {
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const item of items) {
      const amount = Math.round(item.amount);
      if (amount === 0) continue;
      keys.push(this.prefix + item.key);
      args.push(amount, item.ttlMs ?? -1, item.ifExists === true ? 1 : 0);
    }
    if (keys.length === 0) return;
    await this.scripts.aihubCounterAdd(keys.length, ...keys, ...args);
  }

  async get(keys: string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys.map((k) => this.prefix + k));
    return values.map((v) => (v === null ? 0 : Number(v)));
  }

  async init(key: string, value: number, ttlMs: number | null): Promise<boolean> {
    const k = this.prefix + key;
    const result =
      ttlMs === null
        ? await this.redis.set(k, Math.round(value), 'NX')
        : await this.redis.set(k, Math.round(value), 'PX', ttlMs, 'NX');
    return result === 'OK';
  }

  async raise(key: string, value: number, ttlMs: number | null): Promise<void> {
    await this.scripts.aihubCounterRaise(1, this.prefix + key, Math.round(value), ttlMs ?? -1);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + key)) === 1;
  }

  async close(): Promise<void> {
    // The Redis connection belongs to the caller.
  }
}
