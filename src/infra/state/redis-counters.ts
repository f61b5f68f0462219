import type { Redis } from 'ioredis';
import type { CounterStore, ReserveItem } from './counters.js';

// KEYS: counters; ARGV: n, then per item amount, limit (-1 = none), ttl ms (-1 = none).
// All-or-nothing: check every limited counter first, then add to all.
const RESERVE = `
local n = tonumber(ARGV[1])
for i = 1, n do
  local amount = tonumber(ARGV[1 + (i - 1) * 3 + 1])
  local limit = tonumber(ARGV[1 + (i - 1) * 3 + 2])
  if limit >= 0 and amount > 0 then
    local current = tonumber(redis.call('GET', KEYS[i]) or '0')
    if current >= limit then return i - 1 end
  end
end
for i = 1, n do
  local amount = tonumber(ARGV[1 + (i - 1) * 3 + 1])
  local ttl = tonumber(ARGV[1 + (i - 1) * 3 + 3])
  redis.call('INCRBY', KEYS[i], amount)
  if ttl > 0 and redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return -1
`;

const ADD = `
redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
local ttl = tonumber(ARGV[2])
if ttl > 0 and redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

/** The scripts as client commands (ioredis `defineCommand`): sent by SHA (EVALSHA), loaded on first use. */
interface ScriptedRedis {
  aihubCounterReserve(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  aihubCounterAdd(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
}

/**
 * Counters in Redis, shared by every instance; each operation is one atomic script. The scripts are sent by
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
    if (typeof client.aihubCounterReserve !== 'function') client.defineCommand('aihubCounterReserve', { lua: RESERVE });
    if (typeof client.aihubCounterAdd !== 'function') client.defineCommand('aihubCounterAdd', { lua: ADD });
    this.scripts = client as Redis & ScriptedRedis;
  }

  async reserve(items: ReserveItem[]): Promise<number> {
    if (items.length === 0) return -1;
    const args: Array<string | number> = [items.length];
    for (const item of items) args.push(Math.round(item.amount), item.limit ?? -1, item.ttlMs ?? -1);
    const result = await this.scripts.aihubCounterReserve(
      items.length,
      ...items.map((i) => this.prefix + i.key),
      ...args,
    );
    return Number(result);
  }

  async add(key: string, amount: number, ttlMs: number | null): Promise<void> {
    if (amount === 0) return;
    await this.scripts.aihubCounterAdd(1, this.prefix + key, Math.round(amount), ttlMs ?? -1);
  }

  async addAll(items: Array<{ key: string; amount: number; ttlMs: number | null }>): Promise<void> {
    const changes = items.filter((i) => Math.round(i.amount) !== 0);
    if (changes.length === 0) return;
    const args: Array<string | number> = [changes.length];
    for (const item of changes) args.push(Math.round(item.amount), -1, item.ttlMs ?? -1);
    // RESERVE with no limits is a plain multi-key add.
    await this.scripts.aihubCounterReserve(changes.length, ...changes.map((i) => this.prefix + i.key), ...args);
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

  async exists(key: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + key)) === 1;
  }

  async close(): Promise<void> {
    // The Redis connection belongs to the caller.
  }
}
