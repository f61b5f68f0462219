import type { CatalogChannel, CatalogModel, CatalogRoute } from '../catalog.js';
import type { HealthRegistry } from '../health/registry.js';
import type { Strategy } from '../ports.js';

export interface Target {
  route: CatalogRoute;
  channel: CatalogChannel;
  /** The model this target serves (differs from the requested one for fallback models). */
  model: CatalogModel;
}

export type RandomSource = () => number;

export interface RoutingContext {
  strategy: Strategy;
  health?: HealthRegistry | undefined;
  random?: RandomSource | undefined;
  now: number;
  /** Per-model round-robin counters (kept by the caller across requests). */
  counters?: Map<string, number> | undefined;
  /** The caller's channel groups (organization's, team's): a channel must be in one group of each list. */
  channelLimits?: ReadonlyArray<readonly string[]> | undefined;
}

/** Whether `channel` may serve a caller limited to `limits` (channel groups of its organization and team). */
export function channelAllowed(channel: CatalogChannel, limits: ReadonlyArray<readonly string[]>): boolean {
  for (const list of limits) if (!channel.groups.some((group) => list.includes(group))) return false;
  return true;
}

/**
 * Whether a caller limited to channel groups can reach `model` at all: one of its routes (or of its fallback
 * models') goes to a channel of the caller's groups. Enabled or not: a disabled channel is an outage, not a
 * missing permission.
 */
export function modelReachable(
  model: CatalogModel,
  limits: ReadonlyArray<readonly string[]>,
  lookup: (name: string) => CatalogModel | undefined,
): boolean {
  if (limits.length === 0) return true;
  if (model.routes.some((r) => channelAllowed(r.channel, limits))) return true;
  for (const name of model.fallbacks) {
    const fallback = lookup(name);
    if (fallback?.active && fallback.routes.some((r) => channelAllowed(r.channel, limits))) return true;
  }
  return false;
}

function needsKey(channel: CatalogChannel): boolean {
  return channel.adapter.key === 'required';
}

function hasUsableKey(channel: CatalogChannel, ctx: RoutingContext): boolean {
  if (channel.keys.length === 0) return !needsKey(channel);
  if (!ctx.health) return true;
  return channel.keys.some((k) => ctx.health?.keyAvailable(k.id, ctx.now));
}

function weightedOrder(pool: CatalogRoute[], random: RandomSource): CatalogRoute[] {
  const rest = [...pool];
  const out: CatalogRoute[] = [];
  while (rest.length > 0) {
    const total = rest.reduce((sum, r) => sum + Math.max(0, r.weight), 0);
    let index = 0;
    if (total > 0) {
      let point = random() * total;
      index = rest.findIndex((r) => {
        point -= Math.max(0, r.weight);
        return point < 0;
      });
      if (index < 0) index = rest.length - 1;
    } else index = Math.floor(random() * rest.length);
    out.push(...rest.splice(index, 1));
  }
  return out;
}

function orderGroup(pool: CatalogRoute[], model: CatalogModel, priority: number, ctx: RoutingContext): CatalogRoute[] {
  const random = ctx.random ?? Math.random;
  if (pool.length <= 1) return pool;
  switch (ctx.strategy) {
    case 'round_robin': {
      const key = `${model.id}:${priority}`;
      const n = ctx.counters?.get(key) ?? 0;
      ctx.counters?.set(key, n + 1);
      const start = n % pool.length;
      return [...pool.slice(start), ...pool.slice(0, start)];
    }
    case 'lowest_latency': {
      // Unmeasured targets go first so they get measured; ties keep a random order.
      const shuffled = weightedOrder(pool, random);
      const latency = (r: CatalogRoute) => ctx.health?.target(r.channel.id, r.upstreamModel).latencyMs ?? -1;
      return shuffled.sort((a, b) => latency(a) - latency(b));
    }
    case 'least_inflight': {
      const shuffled = weightedOrder(pool, random);
      const inflight = (r: CatalogRoute) => ctx.health?.target(r.channel.id, r.upstreamModel).inflight ?? 0;
      return shuffled.sort((a, b) => inflight(a) - inflight(b));
    }
    default:
      return weightedOrder(pool, random);
  }
}

/**
 * Order one model's routes for a request: enabled channels with a usable key (of the caller's channel groups),
 * higher priority groups
 * first, each group ordered by the strategy; targets whose circuit breaker is open go last (tried only
 * when nothing healthy is left), so later entries are failover candidates.
 */
export function orderTargets(model: CatalogModel, ctx: RoutingContext): Target[] {
  const limits = ctx.channelLimits;
  const usable = model.routes.filter(
    (r) =>
      r.channel.active &&
      hasUsableKey(r.channel, ctx) &&
      (limits === undefined || limits.length === 0 || channelAllowed(r.channel, limits)),
  );
  const groups = new Map<number, CatalogRoute[]>();
  for (const r of usable) {
    const group = groups.get(r.priority);
    if (group) group.push(r);
    else groups.set(r.priority, [r]);
  }
  const healthy: Target[] = [];
  const tripped: Target[] = [];
  for (const priority of [...groups.keys()].sort((a, b) => b - a)) {
    for (const route of orderGroup(groups.get(priority) as CatalogRoute[], model, priority, ctx)) {
      const target = { route, channel: route.channel, model };
      const ok = !ctx.health || ctx.health.target(route.channel.id, route.upstreamModel).available(ctx.now);
      (ok ? healthy : tripped).push(target);
    }
  }
  return [...healthy, ...tripped];
}

/** The next usable key of the channel's pool (round robin, skipping keys cooling down after a 429). */
export function nextKey(
  channel: CatalogChannel,
  health?: HealthRegistry,
  now = 0,
): { id: string | null; secret: string } {
  const keys = channel.keys;
  if (keys.length === 0) return { id: null, secret: '' };
  for (let i = 0; i < keys.length; i++) {
    const key = keys[(channel.keyCursor + i) % keys.length] as { id: string; secret: string };
    if (!health || health.keyAvailable(key.id, now)) {
      channel.keyCursor = (channel.keyCursor + i + 1) % keys.length;
      return key;
    }
  }
  const key = keys[channel.keyCursor % keys.length] as { id: string; secret: string };
  channel.keyCursor = (channel.keyCursor + 1) % keys.length;
  return key;
}
