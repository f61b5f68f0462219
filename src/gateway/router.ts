import type { CatalogChannel, CatalogModel, CatalogRoute } from './catalog.js';

export interface Target {
  route: CatalogRoute;
  channel: CatalogChannel;
}

export type RandomSource = () => number;

/**
 * Order the model's usable routes for one request: higher priority groups first; inside a group a
 * weighted random order (each pick proportional to weight), so later entries are failover candidates.
 */
export function orderTargets(model: CatalogModel, random: RandomSource = Math.random): Target[] {
  const usable = model.routes.filter((r) => r.channel.active && (r.channel.keys.length > 0 || !needsKey(r.channel)));
  if (usable.length <= 1) return usable.map((route) => ({ route, channel: route.channel }));
  const groups = new Map<number, CatalogRoute[]>();
  for (const r of usable) {
    const group = groups.get(r.priority);
    if (group) group.push(r);
    else groups.set(r.priority, [r]);
  }
  const ordered: Target[] = [];
  for (const priority of [...groups.keys()].sort((a, b) => b - a)) {
    const pool = [...(groups.get(priority) as CatalogRoute[])];
    while (pool.length > 0) {
      const total = pool.reduce((sum, r) => sum + Math.max(0, r.weight), 0);
      let index = 0;
      if (total > 0) {
        let point = random() * total;
        index = pool.findIndex((r) => (point -= Math.max(0, r.weight)) < 0);
        if (index < 0) index = pool.length - 1;
      }
      const [picked] = pool.splice(index, 1);
      if (picked) ordered.push({ route: picked, channel: picked.channel });
    }
  }
  return ordered;
}

function needsKey(channel: CatalogChannel): boolean {
  return channel.type !== 'mock' && channel.type !== 'openai-compatible';
}

/** The next key of the channel's pool (round robin); '' for keyless channels. */
export function nextKey(channel: CatalogChannel): string {
  const keys = channel.keys;
  if (keys.length === 0) return '';
  const key = keys[channel.keyCursor % keys.length] as { secret: string };
  channel.keyCursor = (channel.keyCursor + 1) % keys.length;
  return key.secret;
}
