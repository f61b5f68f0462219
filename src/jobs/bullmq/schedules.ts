import type { Redis } from 'ioredis';
import { nextCronRun } from '../policy.js';
import type { ScheduleDefinition, ScheduleRecord } from '../types.js';

/** Move a schedule to its next tick, only if no other instance did it first (compare-and-set on the tick). */
const ADVANCE = `
if redis.call('HGET', KEYS[1], 'nextRunAt') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'enabled') ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'nextRunAt', ARGV[2], 'lastRunAt', ARGV[3])
return 1`;

export interface DueSchedule {
  name: string;
  type: string;
  cron: string;
  payload: unknown;
  tick: number;
}

/**
 * Recurring schedules in Redis: one hash per schedule (`<prefix>:jobs:schedule:<name>`) and the set of names.
 * The instance that fires a tick enqueues it under a unique key (`schedule:<name>:<tick>`), so a tick runs once
 * however many instances see it due. Timing follows the queue's injected clock.
 */
export class RedisSchedules {
  constructor(
    private readonly redis: () => Promise<Redis>,
    private readonly prefix: string,
  ) {}

  #key(name: string): string {
    return `${this.prefix}:jobs:schedule:${name}`;
  }

  /** Store a schedule declared in code: new ones enabled; an existing one keeps `enabled`, a changed cron restarts. */
  async upsert(definition: ScheduleDefinition, now: number): Promise<void> {
    const redis = await this.redis();
    const key = this.#key(definition.name);
    const existing = await redis.hgetall(key);
    const next = nextCronRun(definition.cron, now);
    const fresh = !existing.cron;
    await redis
      .multi()
      .sadd(`${this.prefix}:jobs:schedules`, definition.name)
      .hset(key, {
        type: definition.type,
        cron: definition.cron,
        payload: JSON.stringify(definition.payload ?? null),
        ...(fresh ? { enabled: '1', lastRunAt: '' } : {}),
        ...(fresh || existing.cron !== definition.cron ? { nextRunAt: String(next) } : {}),
      })
      .exec();
  }

  async list(): Promise<ScheduleRecord[]> {
    const redis = await this.redis();
    const names = (await redis.smembers(`${this.prefix}:jobs:schedules`)).sort();
    const rows = await Promise.all(names.map(async (name) => [name, await redis.hgetall(this.#key(name))] as const));
    return rows.filter(([, row]) => row.cron).map(([name, row]) => toRecord(name, row));
  }

  async get(name: string): Promise<ScheduleRecord | undefined> {
    const row = await (await this.redis()).hgetall(this.#key(name));
    return row.cron ? toRecord(name, row) : undefined;
  }

  /** Enabling again starts from the next tick, not from the ones missed while disabled. */
  async setEnabled(name: string, enabled: boolean, now: number): Promise<ScheduleRecord | undefined> {
    const current = await this.get(name);
    if (!current) return undefined;
    await (await this.redis()).hset(this.#key(name), {
      enabled: enabled ? '1' : '0',
      ...(enabled ? { nextRunAt: String(nextCronRun(current.cron, now)) } : {}),
    });
    return this.get(name);
  }

  /** The enabled schedules among `names` whose tick has come. */
  async due(names: string[], now: number): Promise<DueSchedule[]> {
    const redis = await this.redis();
    const out: DueSchedule[] = [];
    for (const name of names) {
      const row = await redis.hgetall(this.#key(name));
      if (row.enabled !== '1' || !row.cron || Number(row.nextRunAt) > now) continue;
      out.push({
        name,
        type: row.type ?? '',
        cron: row.cron,
        payload: JSON.parse(row.payload ?? 'null') as unknown,
        tick: Number(row.nextRunAt),
      });
    }
    return out;
  }

  /** After enqueueing the tick: the next one (a no-op when another instance advanced it already). */
  async advance(due: DueSchedule, now: number): Promise<void> {
    const next = nextCronRun(due.cron, Math.max(now, due.tick));
    await (await this.redis()).eval(ADVANCE, 1, this.#key(due.name), String(due.tick), String(next), String(now));
  }
}

function toRecord(name: string, row: Record<string, string>): ScheduleRecord {
  return {
    name,
    type: row.type ?? '',
    cron: row.cron ?? '',
    enabled: row.enabled === '1',
    nextRunAt: Number(row.nextRunAt),
    lastRunAt: row.lastRunAt ? Number(row.lastRunAt) : null,
  };
}
