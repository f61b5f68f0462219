/**
 * A model's routes as the catalog holds them: the direct routes (one channel each) and the tag routes, each
 * expanded into one route per channel with that tag. Expansion happens when the catalog is built, never per
 * request; a disabled channel is expanded too (routing skips it, and the health checker can still probe it).
 */
import type { CatalogChannel, CatalogRoute } from './catalog.js';

/** A stored route: to one channel, or to every channel with a tag. */
export interface RouteRow {
  upstream_model: string | null;
  priority: number;
  weight: number;
}

/**
 * The routes of model `name`: direct ones first, then the tag routes' channels that no direct route (nor an
 * earlier tag route) of the model already names. A route's priority adds to its channel's; its weight multiplies
 * the channel's (both default neutral).
 * @example buildModelRoutes('gpt-4o', [], [{ tag: 'eu', upstream_model: null, priority: 0, weight: 1 }], channels)
 */
export function buildModelRoutes(
  name: string,
  direct: ReadonlyArray<RouteRow & { channel_id: string }>,
  tagged: ReadonlyArray<RouteRow & { tag: string }>,
  channels: ReadonlyMap<string, CatalogChannel>,
): CatalogRoute[] {
  const routes: CatalogRoute[] = [];
  const routed = new Set<string>();
  const add = (channel: CatalogChannel, r: RouteRow) => {
    const upstream = r.upstream_model ?? name;
    routed.add(channel.id);
    routes.push({
      channel,
      upstreamModel: channel.options.modelMapping?.[upstream] ?? upstream,
      priority: r.priority + channel.priority,
      weight: r.weight * channel.weight,
    });
  };
  for (const r of direct) {
    const channel = channels.get(r.channel_id);
    if (channel) add(channel, r);
  }
  for (const r of tagged) {
    for (const channel of channels.values()) {
      if (routed.has(channel.id) || !channel.tags?.includes(r.tag)) continue;
      add(channel, r);
    }
  }
  return routes;
}
